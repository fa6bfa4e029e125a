/**
 * btsnoop HCI logs (as written by Android's HCI snoop log and BlueZ's btmon): a 16-byte header ("btsnoop\0",
 * version 1, datalink), then records of a 24-byte big-endian header (original length, included length, flags,
 * cumulative drops, timestamp in microseconds since 0000-01-01) and the packet.
 *
 * Datalinks: 1001 HCI un-encapsulated (packet type in the flags), 1002 HCI UART/H4 (packet type byte first),
 * 2001 Linux monitor (btmon; opcode in the flags). Records go to the handler with a LinkType and their flags.
 */
import { CaptureFormatError, LinkType, MAX_RECORD_BYTES, type ContainerFormat, type FrameHandler } from './frame-handler.ts';

const FILE_HEADER = 16;
const RECORD_HEADER = 24;
/** 0000-01-01 to 1970-01-01 in microseconds (0x00dcddb30f2f8000), as 32-bit halves. */
const EPOCH_HI = 0x00dcddb3;
const EPOCH_LO = 0x0f2f8000;

const DATALINKS: Record<number, number> = {
  1001: LinkType.BTSNOOP_HCI_H1,
  1002: LinkType.BLUETOOTH_HCI_H4,
  2001: LinkType.BTSNOOP_MONITOR,
};

/** True when the 8 bytes at `off` are "btsnoop\0". */
export function isBtsnoopMagic(buf: Uint8Array, off: number): boolean {
  const magic = [0x62, 0x74, 0x73, 0x6e, 0x6f, 0x6f, 0x70, 0x00];
  for (let i = 0; i < 8; i++) if (buf[off + i] !== magic[i]) return false;
  return true;
}

export class BtsnoopFormat implements ContainerFormat {
  readonly name = 'btsnoop';
  need = FILE_HEADER;
  records = 0;
  readonly warnings: string[] = [];
  #handler: FrameHandler;
  #headerDone = false;
  #linkType = 0;

  constructor(handler: FrameHandler) {
    this.#handler = handler;
  }

  get headerComplete(): boolean {
    return this.#headerDone;
  }

  parse(buf: Buffer, start: number, end: number, base: number): number {
    let p = start;
    if (!this.#headerDone) {
      if (end - p < FILE_HEADER) {
        this.need = FILE_HEADER;
        return p;
      }
      if (!isBtsnoopMagic(buf, p)) throw new CaptureFormatError('not a btsnoop file: bad identification pattern', base + p);
      const version = buf.readUInt32BE(p + 8);
      if (version !== 1) throw new CaptureFormatError(`unsupported btsnoop version ${version}`, base + p + 8);
      const datalink = buf.readUInt32BE(p + 12);
      const linkType = DATALINKS[datalink];
      if (linkType === undefined) {
        this.warnings.push(`btsnoop datalink ${datalink} is not supported: its records are not counted`);
        this.#linkType = -1;
      } else {
        this.#linkType = linkType;
      }
      this.#headerDone = true;
      p += FILE_HEADER;
    }
    const handler = this.#handler;
    const linkType = this.#linkType;
    for (;;) {
      if (end - p < RECORD_HEADER) {
        this.need = RECORD_HEADER;
        break;
      }
      const incl = buf.readUInt32BE(p + 4);
      if (incl > MAX_RECORD_BYTES) throw new CaptureFormatError(`corrupt btsnoop record: included length ${incl}`, base + p + 4);
      if (end - p - RECORD_HEADER < incl) {
        this.need = RECORD_HEADER + incl;
        break;
      }
      const flags = buf.readUInt32BE(p + 8);
      // Microseconds since 1970, exact: subtract the epoch offset from each half before combining.
      const us = (buf.readUInt32BE(p + 16) - EPOCH_HI) * 4294967296 + (buf.readUInt32BE(p + 20) - EPOCH_LO);
      this.records++;
      handler.onFrame(us / 1000, linkType, buf, p + RECORD_HEADER, incl, flags);
      p += RECORD_HEADER + incl;
    }
    return p;
  }
}
