/**
 * Classic libpcap files: a 24-byte file header, then records of a 16-byte header and the captured bytes.
 * Both byte orders, microsecond (a1b2c3d4) and nanosecond (a1b23c4d) timestamps.
 */
import { CaptureFormatError, MAX_RECORD_BYTES, type ContainerFormat, type FrameHandler } from './frame-handler.ts';

const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;

/** True when the 4 bytes at `off` are a pcap magic number in either byte order. */
export function isPcapMagic(buf: Uint8Array, off: number): boolean {
  const be = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
  const le = ((buf[off + 3]! << 24) | (buf[off + 2]! << 16) | (buf[off + 1]! << 8) | buf[off]!) >>> 0;
  return be === MAGIC_MICROS || be === MAGIC_NANOS || le === MAGIC_MICROS || le === MAGIC_NANOS;
}

export class PcapFormat implements ContainerFormat {
  readonly name = 'pcap';
  need = FILE_HEADER;
  records = 0;
  readonly warnings: string[] = [];
  #handler: FrameHandler;
  #headerDone = false;
  #le = true;
  /** Divisor that turns the fraction field into milliseconds (1e3 for microseconds, 1e6 for nanoseconds). */
  #fracPerMs = 1000;
  #linkType = 0;
  #maxLen = MAX_RECORD_BYTES;

  constructor(handler: FrameHandler) {
    this.#handler = handler;
  }

  get headerComplete(): boolean {
    return this.#headerDone;
  }

  get linkType(): number {
    return this.#linkType;
  }

  parse(buf: Buffer, start: number, end: number, base: number): number {
    let p = start;
    if (!this.#headerDone) {
      if (end - p < FILE_HEADER) {
        this.need = FILE_HEADER;
        return p;
      }
      const magicLe = buf.readUInt32LE(p);
      const magicBe = buf.readUInt32BE(p);
      if (magicLe === MAGIC_MICROS || magicLe === MAGIC_NANOS) this.#le = true;
      else if (magicBe === MAGIC_MICROS || magicBe === MAGIC_NANOS) this.#le = false;
      else throw new CaptureFormatError('not a pcap file: bad magic number', base + p);
      const magic = this.#le ? magicLe : magicBe;
      this.#fracPerMs = magic === MAGIC_NANOS ? 1e6 : 1e3;
      const major = this.#le ? buf.readUInt16LE(p + 4) : buf.readUInt16BE(p + 4);
      if (major !== 2) throw new CaptureFormatError(`unsupported pcap version ${major}`, base + p + 4);
      const snaplen = this.#le ? buf.readUInt32LE(p + 16) : buf.readUInt32BE(p + 16);
      // The low 16 bits are the link type; the upper bits may carry an FCS length (pcap "LINKTYPE_..._FCS" extension).
      this.#linkType = (this.#le ? buf.readUInt32LE(p + 20) : buf.readUInt32BE(p + 20)) & 0xffff;
      // Some writers store a snaplen of 0 or a small one and still write longer records; only a length beyond both
      // the snaplen and 256 KiB is taken as corruption.
      this.#maxLen = Math.min(MAX_RECORD_BYTES, Math.max(snaplen, 262144));
      this.#headerDone = true;
      p += FILE_HEADER;
    }
    const handler = this.#handler;
    const le = this.#le;
    const linkType = this.#linkType;
    const fracPerMs = this.#fracPerMs;
    const maxLen = this.#maxLen;
    let records = this.records;
    for (;;) {
      if (end - p < RECORD_HEADER) {
        this.need = RECORD_HEADER;
        break;
      }
      const incl = le ? buf.readUInt32LE(p + 8) : buf.readUInt32BE(p + 8);
      if (incl > maxLen) {
        this.records = records;
        throw new CaptureFormatError(`corrupt pcap record: captured length ${incl} exceeds ${maxLen}`, base + p);
      }
      if (end - p - RECORD_HEADER < incl) {
        this.need = RECORD_HEADER + incl;
        break;
      }
      const sec = le ? buf.readUInt32LE(p) : buf.readUInt32BE(p);
      const frac = le ? buf.readUInt32LE(p + 4) : buf.readUInt32BE(p + 4);
      records++;
      handler.onFrame(sec * 1000 + frac / fracPerMs, linkType, buf, p + RECORD_HEADER, incl, 0);
      p += RECORD_HEADER + incl;
    }
    this.records = records;
    return p;
  }
}
