/**
 * pcapng files: blocks of (type, total length, body, total length). Reads Section Header Blocks in either byte
 * order (several sections), Interface Description Blocks with per-interface link type, if_tsresol (decimal and
 * power-of-2) and if_tsoffset, Enhanced Packet Blocks, Simple Packet Blocks and the obsolete Packet Block; every
 * other block type is skipped.
 */
import { CaptureFormatError, MAX_RECORD_BYTES, type ContainerFormat, type FrameHandler } from './frame-handler.ts';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const PB = 0x00000002;
const SPB = 0x00000003;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const TWO_32 = 4294967296;

/** True when the 4 bytes at `off` are the pcapng Section Header Block type. */
export function isPcapngMagic(buf: Uint8Array, off: number): boolean {
  return buf[off] === 0x0a && buf[off + 1] === 0x0d && buf[off + 2] === 0x0d && buf[off + 3] === 0x0a;
}

interface Interface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per millisecond when that is an integer (decimal resolutions >= 1 ms), else 0. */
  unitsPerMs: number;
  /** Timestamp units per second (for the other resolutions). */
  unitsPerSec: number;
  /** floor(2^32 / unitsPerMs) and 2^32 mod unitsPerMs, to convert (hi, lo) without losing precision. */
  hiQuot: number;
  hiRem: number;
  /** if_tsoffset, in milliseconds. */
  offsetMs: number;
}

export class PcapngFormat implements ContainerFormat {
  readonly name = 'pcapng';
  need = 12;
  records = 0;
  readonly warnings: string[] = [];
  #handler: FrameHandler;
  #le = true;
  #sawSection = false;
  #interfaces: Interface[] = [];
  /** Time of the previous packet, for Simple Packet Blocks (which carry none). */
  #lastTimeMs = NaN;
  #warnedNoTime = false;
  #warnedBadInterface = new Set<number>();

  constructor(handler: FrameHandler) {
    this.#handler = handler;
  }

  get headerComplete(): boolean {
    return this.#sawSection;
  }

  parse(buf: Buffer, start: number, end: number, base: number): number {
    let p = start;
    for (;;) {
      if (end - p < 12) {
        this.need = 12;
        break;
      }
      let type: number;
      if (isPcapngMagic(buf, p)) {
        // The byte order of a section is only known from its byte-order magic.
        const bom = buf.readUInt32LE(p + 8);
        if (bom === BYTE_ORDER_MAGIC) this.#le = true;
        else if (buf.readUInt32BE(p + 8) === BYTE_ORDER_MAGIC) this.#le = false;
        else throw new CaptureFormatError('corrupt pcapng section header: bad byte-order magic', base + p + 8);
        type = SHB;
      } else {
        if (!this.#sawSection) throw new CaptureFormatError('not a pcapng file: no section header block', base + p);
        type = this.#u32(buf, p);
      }
      const len = this.#u32(buf, p + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_RECORD_BYTES || (type === SHB && len < 28)) {
        throw new CaptureFormatError(`corrupt pcapng block: type 0x${type.toString(16)} with total length ${len}`, base + p + 4);
      }
      if (end - p < len) {
        this.need = len;
        break;
      }
      if (this.#u32(buf, p + len - 4) !== len) {
        throw new CaptureFormatError(`corrupt pcapng block: trailing length differs from leading length ${len}`, base + p + len - 4);
      }
      switch (type) {
        case SHB:
          this.#section(buf, p, base);
          break;
        case IDB:
          this.#interface(buf, p, len, base);
          break;
        case EPB:
          this.#packet(buf, p, len, base, this.#u32(buf, p + 8), 28);
          break;
        case PB:
          this.#packet(buf, p, len, base, this.#u16(buf, p + 8), 28);
          break;
        case SPB:
          this.#simplePacket(buf, p, len, base);
          break;
        default:
          // Name resolution, statistics, custom blocks, ...: nothing to count.
          break;
      }
      p += len;
    }
    return p;
  }

  #u32(buf: Buffer, o: number): number {
    return this.#le ? buf.readUInt32LE(o) : buf.readUInt32BE(o);
  }

  #u16(buf: Buffer, o: number): number {
    return this.#le ? buf.readUInt16LE(o) : buf.readUInt16BE(o);
  }

  #section(buf: Buffer, p: number, base: number): void {
    const major = this.#u16(buf, p + 12);
    if (major !== 1) throw new CaptureFormatError(`unsupported pcapng version ${major}`, base + p + 12);
    this.#sawSection = true;
    // Interface ids are per section.
    this.#interfaces = [];
  }

  #interface(buf: Buffer, p: number, len: number, base: number): void {
    if (len < 20) throw new CaptureFormatError(`corrupt pcapng interface block: total length ${len}`, base + p + 4);
    const linkType = this.#u16(buf, p + 8);
    const snaplen = this.#u32(buf, p + 12);
    let unitsPerSec = 1e6;
    let offsetMs = 0;
    // Options: (code u16, length u16, value padded to 4 bytes), up to opt_endofopt or the block's end.
    const optEnd = p + len - 4;
    let o = p + 16;
    while (o + 4 <= optEnd) {
      const code = this.#u16(buf, o);
      const olen = this.#u16(buf, o + 2);
      if (code === OPT_ENDOFOPT) break;
      if (o + 4 + olen > optEnd) throw new CaptureFormatError(`corrupt pcapng interface option ${code}: length ${olen}`, base + o);
      if (code === OPT_IF_TSRESOL && olen >= 1) {
        const r = buf[o + 4]!;
        const exp = r & 0x7f;
        // MSB 0: 10^-exp seconds; MSB 1: 2^-exp seconds.
        unitsPerSec = (r & 0x80) === 0 ? 10 ** exp : 2 ** exp;
      } else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        const lo = this.#u32(buf, o + 4 + (this.#le ? 0 : 4));
        const hi = this.#le ? buf.readInt32LE(o + 8) : buf.readInt32BE(o + 4);
        offsetMs = (hi * TWO_32 + lo) * 1000;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    const unitsPerMs = unitsPerSec >= 1000 && unitsPerSec % 1000 === 0 ? unitsPerSec / 1000 : 0;
    this.#interfaces.push({
      linkType,
      snaplen,
      unitsPerSec,
      unitsPerMs,
      hiQuot: unitsPerMs > 0 ? Math.floor(TWO_32 / unitsPerMs) : 0,
      hiRem: unitsPerMs > 0 ? TWO_32 % unitsPerMs : 0,
      offsetMs,
    });
  }

  /** Enhanced Packet Block (and the obsolete Packet Block, same layout from offset 12). */
  #packet(buf: Buffer, p: number, len: number, base: number, ifId: number, dataAt: number): void {
    if (len < dataAt + 4) throw new CaptureFormatError(`corrupt pcapng packet block: total length ${len}`, base + p + 4);
    const caplen = this.#u32(buf, p + 20);
    if (dataAt + caplen > len - 4) {
      throw new CaptureFormatError(`corrupt pcapng packet block: captured length ${caplen} exceeds the block`, base + p + 20);
    }
    const iface = this.#interfaces[ifId];
    this.records++;
    if (iface === undefined) {
      this.#badInterface(ifId);
      return;
    }
    const hi = this.#u32(buf, p + 12);
    const lo = this.#u32(buf, p + 16);
    let ms: number;
    if (iface.unitsPerMs > 0) {
      // Exact integer part: (hi * 2^32 + lo) / u = hi * floor(2^32 / u) + (hi * (2^32 mod u) + lo) / u.
      ms = hi * iface.hiQuot + (hi * iface.hiRem + lo) / iface.unitsPerMs;
    } else {
      ms = ((hi * TWO_32 + lo) * 1000) / iface.unitsPerSec;
    }
    ms += iface.offsetMs;
    this.#lastTimeMs = ms;
    this.#handler.onFrame(ms, iface.linkType, buf, p + dataAt, caplen, 0);
  }

  #simplePacket(buf: Buffer, p: number, len: number, base: number): void {
    if (len < 16) throw new CaptureFormatError(`corrupt pcapng simple packet block: total length ${len}`, base + p + 4);
    this.records++;
    const iface = this.#interfaces[0];
    if (iface === undefined) {
      this.#badInterface(0);
      return;
    }
    const origLen = this.#u32(buf, p + 8);
    let caplen = Math.min(origLen, len - 16);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    if (Number.isNaN(this.#lastTimeMs)) {
      // A Simple Packet Block has no timestamp; before any timed packet there is no window to put it in.
      if (!this.#warnedNoTime) {
        this.#warnedNoTime = true;
        this.warnings.push('pcapng simple packet blocks before any timestamped packet were skipped (they carry no time)');
      }
      return;
    }
    this.#handler.onFrame(this.#lastTimeMs, iface.linkType, buf, p + 12, caplen, 0);
  }

  #badInterface(ifId: number): void {
    if (this.#warnedBadInterface.has(ifId)) return;
    this.#warnedBadInterface.add(ifId);
    this.warnings.push(`pcapng packets for undeclared interface ${ifId} were skipped`);
  }
}
