/**
 * The Bluetooth LE link-layer CRC-24 (polynomial x^24 + x^10 + x^9 + x^6 + x^4 + x^3 + x + 1), computed over the
 * PDU header and payload, bits least significant first, as the radio sends them. Advertising channels use the
 * init value 0x555555. The result is in the byte order of the packet: compare it with the 3 CRC bytes read as a
 * little-endian number.
 */

export const ADVERTISING_CRC_INIT = 0x555555;

/** Per-byte table of the reflected CRC (one step per input byte instead of eight). */
const TABLE = buildTable();

function buildTable(): Uint32Array {
  // Reflected form of the polynomial 0x00065b (bits 0..23 reversed): 0xda6000.
  const poly = 0xda6000;
  const t = new Uint32Array(256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[b] = c;
  }
  return t;
}

/** Reverses the low 24 bits. */
function reverse24(x: number): number {
  let r = 0;
  for (let i = 0; i < 24; i++) r |= ((x >>> i) & 1) << (23 - i);
  return r >>> 0;
}

const ADVERTISING_INIT_REFLECTED = reverse24(ADVERTISING_CRC_INIT);

/** CRC-24 of buf[off, off+len), as the packet stores it (little-endian 24-bit value). */
export function bleCrc24(buf: Uint8Array, off: number, len: number, init = ADVERTISING_CRC_INIT): number {
  let crc = init === ADVERTISING_CRC_INIT ? ADVERTISING_INIT_REFLECTED : reverse24(init);
  const end = off + len;
  for (let i = off; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ buf[i]!) & 0xff]!;
  return crc & 0xffffff;
}
