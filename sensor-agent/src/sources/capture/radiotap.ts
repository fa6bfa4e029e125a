/**
 * The radiotap header (link type 127) in front of an 802.11 frame: only what counting needs, the Flags field
 * (FCS at the end, bad FCS) and the first dBm antenna signal. Fields are walked in bit order with the alignment
 * radiotap requires (relative to the start of the header); extended present bitmaps are skipped to find the
 * first field.
 */

/** Flags field bits. */
export const RADIOTAP_FLAG_FCS_AT_END = 0x10;
export const RADIOTAP_FLAG_BAD_FCS = 0x40;

/** Result of `parseRadiotap`, reused across calls (no allocation per frame). */
export interface RadiotapInfo {
  /** Header length: the 802.11 frame starts this many bytes after the header's start. */
  length: number;
  /** Flags field, 0 when absent. */
  flags: number;
  /** dBm antenna signal, NaN when absent. */
  rssi: number;
}

// Bits of the first present word, in field order, that come up to the antenna signal, with [alignment, size].
const TSFT = 0, FLAGS = 1, RATE = 2, CHANNEL = 3, FHSS = 4, DBM_ANTSIGNAL = 5;
const EXT = 0x80000000;

/**
 * Parses the radiotap header at buf[off, off+len) into `out`. Returns false when the header is malformed
 * (wrong version, length beyond the record, fields beyond the header).
 */
export function parseRadiotap(buf: Uint8Array, off: number, len: number, out: RadiotapInfo): boolean {
  if (len < 8 || buf[off] !== 0) return false;
  const hlen = buf[off + 2]! | (buf[off + 3]! << 8);
  if (hlen < 8 || hlen > len) return false;
  const present = le32(buf, off + 4);
  // Skip the extended bitmaps: each one with bit 31 set is followed by another.
  let pos = 8;
  let word = present;
  while ((word & EXT) !== 0) {
    if (pos + 4 > hlen) return false;
    word = le32(buf, off + pos);
    pos += 4;
  }
  out.length = hlen;
  out.flags = 0;
  out.rssi = NaN;
  if ((present & (1 << TSFT)) !== 0) {
    pos = (pos + 7) & ~7;
    pos += 8;
  }
  if ((present & (1 << FLAGS)) !== 0) {
    if (pos + 1 > hlen) return false;
    out.flags = buf[off + pos]!;
    pos += 1;
  }
  if ((present & (1 << RATE)) !== 0) pos += 1;
  if ((present & (1 << CHANNEL)) !== 0) {
    pos = (pos + 1) & ~1;
    pos += 4;
  }
  if ((present & (1 << FHSS)) !== 0) pos += 2;
  if ((present & (1 << DBM_ANTSIGNAL)) !== 0) {
    if (pos + 1 > hlen) return false;
    const v = buf[off + pos]!;
    out.rssi = v > 127 ? v - 256 : v;
  }
  return true;
}

function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
