/**
 * The counting rule's one edge for BLE: a record cut short by the capture (snap length) whose sniffer checked the
 * CRC on the whole packet and found it correct (nRF Sniffer, link type 272; LE LL with PHDR, 256, with the
 * "CRC checked" and "CRC valid" flags) is a real frame and is counted when its advertiser address is complete.
 * A cut-short PDU whose CRC the sniffer did not check (or found wrong) stays uncounted, as before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFiles } from '../../src/count.ts';
import type { WindowCounts } from '../../src/pipeline/types.ts';
import { LINKTYPE, bleAdvPdu, blePhdrRecord, nordicBleRecord, writePcap } from '../helpers/pcap-writer.ts';

const T = 1_700_000_040_000;

/** The PDU cut after `keep` bytes of its payload (AdvA is the first 6); access address and header stay whole. */
function cut(advA: string, keep: number): Buffer {
  return bleAdvPdu({ advA, txAdd: true, data: Buffer.from([0x02, 0x01, 0x06, 0x03, 0xff, 0x4c, 0x00]) }).subarray(0, 4 + 2 + keep);
}

async function count(file: string): Promise<{ devices: number; frames: number; skipped: Record<string, number> }> {
  const windows: WindowCounts[] = [];
  const summary = await countFiles([file], {}, { onWindow: (w) => void windows.push(w) });
  return {
    devices: windows.reduce((a, w) => a + w.ble.devices, 0),
    frames: windows.reduce((a, w) => a + w.ble.frames, 0),
    skipped: summary.skipped as unknown as Record<string, number>,
  };
}

describe('BLE: a cut-short PDU whose CRC the sniffer verified', () => {
  let dir: string;
  beforeAll(() => void (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-ble-cut-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('nRF Sniffer (272): counted when the CRC is OK and AdvA is complete; not when the CRC failed or AdvA is cut', async () => {
    const file = path.join(dir, 'nordic.pcap');
    writePcap(
      file,
      [
        // whole PDU, CRC OK: counted (as before)
        { timeMs: T + 100, data: nordicBleRecord(bleAdvPdu({ advA: 'c0:00:00:00:00:01', txAdd: true })) },
        // cut after AdvA + 2 bytes of data, CRC OK: counted (the edge)
        { timeMs: T + 200, data: nordicBleRecord(cut('c0:00:00:00:00:02', 8)) },
        // cut right after AdvA, CRC OK, protocol 3: counted
        { timeMs: T + 300, data: nordicBleRecord(cut('c0:00:00:00:00:03', 6), { protover: 3 }) },
        // cut, CRC not OK: not counted
        { timeMs: T + 400, data: nordicBleRecord(cut('c0:00:00:00:00:04', 8), { crcOk: false }) },
        // cut inside AdvA, CRC OK: not counted (no complete address)
        { timeMs: T + 500, data: nordicBleRecord(cut('c0:00:00:00:00:05', 4)) },
      ],
      { linkType: LINKTYPE.NORDIC_BLE },
    );
    const r = await count(file);
    expect(r.frames).toBe(3);
    expect(r.devices).toBe(3);
    expect(r.skipped.badCrc).toBe(0);
    expect(r.skipped.malformed).toBe(2);
  });

  it('LE LL with PHDR (256): a cut PDU counts only when the sniffer says CRC checked and valid', async () => {
    const file = path.join(dir, 'phdr.pcap');
    writePcap(
      file,
      [
        { timeMs: T + 100, data: blePhdrRecord(cut('c0:00:00:00:00:11', 8), { crcChecked: true, crcValid: true }) },
        // not checked by the sniffer: the CRC rule applies, and a cut PDU has no CRC to check
        { timeMs: T + 200, data: blePhdrRecord(cut('c0:00:00:00:00:12', 8)) },
        { timeMs: T + 300, data: blePhdrRecord(cut('c0:00:00:00:00:13', 8), { crcChecked: true, crcValid: false }) },
      ],
      { linkType: LINKTYPE.BLE_LL_PHDR },
    );
    const r = await count(file);
    expect(r.frames).toBe(1);
    expect(r.devices).toBe(1);
  });
});
