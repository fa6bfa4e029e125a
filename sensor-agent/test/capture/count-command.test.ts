/**
 * `passant-sensor count FILE...`, run as the real program (bin/passant-sensor.js) on captures the test writes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CountsMessageSchema, type CountsMessage } from '@passant/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFiles } from '../../src/count.ts';
import {
  BTSNOOP,
  LINKTYPE,
  bleAdvPdu,
  blePhdrRecord,
  hciLeAdvReport,
  radiotapProbeRequest,
  writeBtsnoop,
  writePcap,
  writePcapng,
} from '../helpers/pcap-writer.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/passant-sensor.js');
const T = 1_700_000_040_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const { PASSANT_SENSOR_ID: _drop, ...base } = process.env;
    const child = spawn(process.execPath, [BIN, 'count', ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function messages(stdout: string): CountsMessage[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => CountsMessageSchema.parse(JSON.parse(l)));
}

describe('passant-sensor count', () => {
  let dir: string;
  let wifi: string;
  let wifiLater: string;
  let ble: string;
  let snoop: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-count-'));
    wifi = path.join(dir, 'wifi.pcap');
    writePcap(
      wifi,
      [
        { timeMs: T + 1000, data: radiotapProbeRequest({ src: '02:00:00:00:00:01', rssi: -50 }) },
        { timeMs: T + 2000, data: radiotapProbeRequest({ src: '02:00:00:00:00:01', rssi: -52 }) },
        { timeMs: T + 3000, data: radiotapProbeRequest({ src: '00:11:22:33:44:55', rssi: -90 }) },
        { timeMs: T + 125_000, data: radiotapProbeRequest({ src: '00:11:22:33:44:55', rssi: -60 }) },
      ],
      { linkType: LINKTYPE.RADIOTAP },
    );
    wifiLater = path.join(dir, 'wifi-later.pcap');
    writePcap(wifiLater, [{ timeMs: T + 190_000, data: radiotapProbeRequest({ src: '06:00:00:00:00:07', rssi: -40 }) }], {
      linkType: LINKTYPE.RADIOTAP,
      nanos: true,
      bigEndian: true,
    });
    ble = path.join(dir, 'ble.pcapng');
    writePcapng(
      ble,
      [
        { timeMs: T + 10, data: blePhdrRecord(bleAdvPdu({ advA: 'c0:00:00:00:00:01', txAdd: true })) },
        { timeMs: T + 20, data: blePhdrRecord(bleAdvPdu({ advA: 'c0:00:00:00:00:02', crcOk: false })) },
      ],
      { interfaces: [{ linkType: LINKTYPE.BLE_LL_PHDR }] },
    );
    snoop = path.join(dir, 'hci.btsnoop');
    writeBtsnoop(snoop, [{ timeMs: T + 30, data: hciLeAdvReport({ addr: '00:1a:7d:00:00:01', addrType: 0, rssi: -70 }) }], BTSNOOP.MONITOR);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints one schema-valid counts message per window, empty windows included, and a summary on stderr', async () => {
    const r = await run(['--sensor-id', 'shop-1', wifi]);
    expect(r.code).toBe(0);
    const m = messages(r.stdout);
    expect(m.map((x) => [x.windowStart - T / 1000, x.seq, x.wifi.devices, x.wifi.randomized, x.wifi.frames])).toEqual([
      [0, 0, 2, 1, 3],
      [60, 1, 0, 0, 0],
      [120, 2, 1, 0, 1],
    ]);
    expect(m.every((x) => x.sensorId === 'shop-1' && x.v === 1 && x.rssiFloor === null && x.windowSeconds === 60)).toBe(true);
    expect(m[0]!.wifi.rssiHistogram).toEqual([0, 1, 0, 0, 0, 2]);
    // No progress when stderr is not a terminal: only the summary line.
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/1 files, 4 records, 4 frames counted .* 3 windows printed, 0 in 0 gaps not printed, 0 warnings/);
    // Nothing that looks like an address on either stream.
    expect(r.stdout + r.stderr).not.toMatch(/00:11:22|001122|02:00:00:00:00:01/i);
  });

  it('applies --rssi-floor and --window, takes the sensor id from PASSANT_SENSOR_ID', async () => {
    const r = await run(['--rssi-floor', '-70', '--window', '300', wifi], { PASSANT_SENSOR_ID: 'env-sensor' });
    expect(r.code).toBe(0);
    const m = messages(r.stdout);
    expect(m.map((x) => x.windowStart)).toEqual([1_699_999_800, 1_700_000_100]);
    expect(m[0]).toMatchObject({ sensorId: 'env-sensor', windowSeconds: 300, rssiFloor: -70 });
    // -90 dBm is below the floor: not counted (neither frame nor device), but in the histogram.
    expect(m[0]!.wifi).toMatchObject({ devices: 1, frames: 2 });
    expect(m[0]!.wifi.rssiHistogram!.reduce((a, b) => a + b)).toBe(3);
    expect(m[1]!.wifi).toMatchObject({ devices: 1, frames: 1 });
  });

  it('counts several files (pcap, pcapng, btsnoop) as one stream in the order given', async () => {
    const r = await run([ble, snoop, wifi, wifiLater]);
    expect(r.code).toBe(0);
    const m = messages(r.stdout);
    expect(m.map((x) => x.seq)).toEqual([0, 1, 2, 3]);
    expect(m.map((x) => x.sensorId)).toEqual(['local', 'local', 'local', 'local']);
    expect(m[0]!.ble).toMatchObject({ devices: 2, randomized: 1, frames: 2 }); // the bad-CRC PDU is not counted
    expect(m[0]!.wifi).toMatchObject({ devices: 2, frames: 3 });
    expect(m[3]!.wifi).toMatchObject({ devices: 1, randomized: 1, frames: 1 });
    expect(r.stderr).toMatch(/4 files, 8 records, 7 frames counted/);
  });

  it('exits 2 on a bad command line, naming every problem', async () => {
    const r = await run(['--bogus', wifi]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--bogus'/);
    const r2 = await run(['--window', '7', '--rssi-floor', 'loud', '--sensor-id', 'Bad Id']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/--sensor-id/);
    expect(r2.stderr).toMatch(/--window "7"/);
    expect(r2.stderr).toMatch(/--rssi-floor "loud"/);
    expect(r2.stderr).toMatch(/no capture file given/);
    expect(r2.stdout).toBe('');
  });

  it('exits 1 on a missing or corrupt file, with a message naming it (and the byte offset)', async () => {
    const missing = await run([path.join(dir, 'nope.pcap')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.pcap: no such file/);
    const corrupt = path.join(dir, 'corrupt.pcap');
    const bytes = fs.readFileSync(wifi);
    bytes.writeUInt32LE(0x10000000, 24 + 16 + radiotapProbeRequest({ src: '02:00:00:00:00:01', rssi: -50 }).length + 8);
    fs.writeFileSync(corrupt, bytes);
    const r = await run([corrupt]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/corrupt\.pcap: corrupt pcap record: captured length 268435456 .*\(at byte offset \d+\)/);
  });

  it('reports a truncated last record as a warning and still exits 0', async () => {
    const cut = path.join(dir, 'cut.pcap');
    const bytes = fs.readFileSync(wifi);
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
    const r = await run([cut]);
    expect(r.code).toBe(0);
    expect(messages(r.stdout)).toHaveLength(1);
    expect(r.stderr).toMatch(/warning: .*cut\.pcap: truncated last record at byte offset \d+/);
    expect(r.stderr).toMatch(/1 warnings/);
  });

  it('countFiles hands the same windows to any sink (the function behind the command)', async () => {
    const windows: number[] = [];
    const summary = await countFiles([wifi, wifiLater], { windowSeconds: 60 }, { onWindow: (w) => void windows.push(w.wifi.frames) });
    expect(windows).toEqual([3, 0, 1, 1]);
    expect(summary).toMatchObject({ files: 2, records: 5, detections: 5, framesCounted: 5, windows: 4, lateFrames: 0 });
  });
});
