import { describe, expect, it } from 'vitest';
import { bleCrc24 } from '../../src/sources/capture/ble-crc.ts';
import { bleAdvPdu, referenceBleCrc } from '../helpers/pcap-writer.ts';

describe('BLE CRC-24', () => {
  it('the table-driven CRC equals the bit-by-bit LFSR of the specification on random PDUs', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (let n = 0; n < 200; n++) {
      const bytes = Uint8Array.from({ length: 2 + (n % 40) }, rnd);
      expect(bleCrc24(bytes, 0, bytes.length)).toBe(referenceBleCrc(bytes));
      const init = (rnd() << 16) | (rnd() << 8) | rnd();
      expect(bleCrc24(bytes, 0, bytes.length, init)).toBe(referenceBleCrc(bytes, init));
    }
  });

  it('accepts a PDU with its CRC and rejects any single flipped bit', () => {
    const pdu = bleAdvPdu({ advA: 'c0:11:22:33:44:55', txAdd: true });
    const len = pdu[5]!;
    const stored = (): number => pdu[6 + len]! | (pdu[7 + len]! << 8) | (pdu[8 + len]! << 16);
    expect(bleCrc24(pdu, 4, 2 + len)).toBe(stored());
    for (let bit = 0; bit < (2 + len) * 8; bit++) {
      pdu[4 + (bit >> 3)]! ^= 1 << (bit & 7);
      expect(bleCrc24(pdu, 4, 2 + len)).not.toBe(stored());
      pdu[4 + (bit >> 3)]! ^= 1 << (bit & 7);
    }
  });
});
