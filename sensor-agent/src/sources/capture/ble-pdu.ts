/**
 * Bluetooth LE advertising PDUs as sniffed on air (access address, 2-byte header, payload, 3-byte CRC) and
 * their counting rule: ADV_IND, ADV_DIRECT_IND, ADV_NONCONN_IND, SCAN_RSP and ADV_SCAN_IND (PDU types 0, 1, 2,
 * 4, 6) on the advertising access address, keyed on AdvA (the first 6 payload bytes, least significant octet
 * first as on air); TxAdd = 1 means a random (randomized) address. A PDU whose record the capture cut short is
 * counted only when the sniffer verified its CRC (nRF Sniffer, or the PHDR's "CRC checked" and "valid" flags) and
 * its AdvA is complete.
 */
import { bleCrc24 } from './ble-crc.ts';

export const ADVERTISING_ACCESS_ADDRESS = 0x8e89bed6;

/** PDU types counted: bit i set when type i is. */
const COUNTED_PDU_TYPES = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 4) | (1 << 6);

/** What the sniffer says about the CRC. */
export const CrcState = { UNKNOWN: 0, VALID: 1, INVALID: 2 } as const;
export type CrcState = (typeof CrcState)[keyof typeof CrcState];

/** Why a BLE record was not counted; 0 = counted. */
export const BleVerdict = {
  COUNTED: 0,
  TOO_SHORT: 1,
  NOT_ADVERTISING: 2,
  NOT_COUNTED_TYPE: 3,
  BAD_CRC: 4,
} as const;
export type BleVerdict = (typeof BleVerdict)[keyof typeof BleVerdict];

/**
 * Checks the link-layer packet at buf[p, end) (starting with the access address). Returns COUNTED when it is a
 * counted advertising PDU with a good CRC; then AdvA is at p + 6 and `txAddOf(buf, p)` tells its type.
 */
export function checkAdvertisingPdu(buf: Uint8Array, p: number, end: number, crc: CrcState): BleVerdict {
  if (end - p < 4 + 2 + 3) return BleVerdict.TOO_SHORT;
  const aa = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
  if (aa !== ADVERTISING_ACCESS_ADDRESS) return BleVerdict.NOT_ADVERTISING;
  const type = buf[p + 4]! & 0x0f;
  const length = buf[p + 5]!;
  if (((COUNTED_PDU_TYPES >>> type) & 1) === 0) return BleVerdict.NOT_COUNTED_TYPE;
  if (length < 6) return BleVerdict.TOO_SHORT;
  if (end - p < 4 + 2 + length + 3) {
    // Cut short by the capture (snap length), yet the sniffer checked the CRC of the whole packet on air and found it
    // correct: a real frame, counted when its advertiser address is complete. Without that verdict a cut PDU has no
    // CRC to check and stays uncounted.
    return crc === CrcState.VALID && end - p >= 4 + 2 + 6 ? BleVerdict.COUNTED : BleVerdict.TOO_SHORT;
  }
  if (crc === CrcState.INVALID) return BleVerdict.BAD_CRC;
  if (crc === CrcState.UNKNOWN) {
    const c = p + 6 + length;
    const stored = buf[c]! | (buf[c + 1]! << 8) | (buf[c + 2]! << 16);
    if (bleCrc24(buf, p + 4, 2 + length) !== stored) return BleVerdict.BAD_CRC;
  }
  return BleVerdict.COUNTED;
}

/** TxAdd bit of the PDU at p (access address first). */
export function txAddOf(buf: Uint8Array, p: number): boolean {
  return (buf[p + 4]! & 0x40) !== 0;
}
