/**
 * What a capture container parser (pcap, pcapng, btsnoop) hands on: one record at a time, as a view into the
 * parser's buffer (valid only during the call), with its link type.
 */

/** Link types (tcpdump.org LINKTYPE_*) the dissector understands, plus pseudo types for btsnoop logs. */
export const LinkType = {
  IEEE802_11: 105,
  IEEE802_11_RADIOTAP: 127,
  BLUETOOTH_HCI_H4: 187,
  BLUETOOTH_HCI_H4_WITH_PHDR: 201,
  BLUETOOTH_LE_LL: 251,
  BLUETOOTH_LINUX_MONITOR: 254,
  BLUETOOTH_LE_LL_WITH_PHDR: 256,
  NORDIC_BLE: 272,
  /** btsnoop "HCI un-encapsulated" (datalink 1001): no packet-type byte; `aux` holds the record flags. */
  BTSNOOP_HCI_H1: 0x10000 + 1001,
  /** btsnoop "Linux monitor" (datalink 2001, what btmon writes): `aux` holds the record flags (opcode, index). */
  BTSNOOP_MONITOR: 0x10000 + 2001,
} as const;

export interface FrameHandler {
  /**
   * One capture record.
   * @param timeMs    capture time, Unix milliseconds (may be fractional)
   * @param linkType  a LinkType value (or any other number, which the dissector skips)
   * @param buf       buffer holding the record's bytes at [off, off + len)
   * @param aux       format-specific extra (btsnoop record flags), else 0
   */
  onFrame(timeMs: number, linkType: number, buf: Buffer, off: number, len: number, aux: number): void;
}

/** A capture file or stream that cannot be read, with the byte offset (from the start of the stream) of the fault. */
export class CaptureFormatError extends Error {
  readonly byteOffset: number;
  constructor(message: string, byteOffset: number, options?: { cause?: unknown }) {
    super(`${message} (at byte offset ${byteOffset})`, options);
    this.name = 'CaptureFormatError';
    this.byteOffset = byteOffset;
  }
}

/**
 * A container format: parses as many complete units (file header, records, blocks) as `buf[start, end)` holds.
 * Returns the position after the last complete unit and sets `need` to the number of bytes (counted from that
 * position) required before it can go on.
 */
export interface ContainerFormat {
  readonly name: string;
  need: number;
  /** Records handed to the handler so far. */
  records: number;
  /** True once the file header (pcap, btsnoop) or the first section header (pcapng) was read. */
  readonly headerComplete: boolean;
  /** @param base byte offset of buf[0] in the stream, for error messages */
  parse(buf: Buffer, start: number, end: number, base: number): number;
  /** Warnings collected so far (unknown link types, records without time, ...). */
  readonly warnings: string[];
}

/** Largest record or block accepted; anything bigger is taken as a corrupt length field. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
