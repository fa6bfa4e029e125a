/**
 * Capture containers and link types, on captures written by the test (test/helpers/pcap-writer.ts): pcap in
 * both byte orders and both resolutions, pcapng with several sections, interfaces and resolutions, btsnoop;
 * radiotap, plain 802.11, BLE LL (251, 256, 272) and HCI advertising reports.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Radio } from '@passant/shared';
import { CaptureParser } from '../../src/sources/capture/capture-parser.ts';
import { FrameDissector } from '../../src/sources/capture/frame-dissector.ts';
import type { DetectionSink } from '../../src/pipeline/types.ts';
import {
  BTSNOOP,
  LINKTYPE,
  bleAdvPdu,
  blePhdrRecord,
  btsnoopBytes,
  hciLeAdvReport,
  hciLeExtAdvReport,
  hciResetCommand,
  ieee80211Frame,
  nordicBleRecord,
  pcapBytes,
  pcapngBytes,
  radiotapProbeRequest,
  writePcap,
  type Frame,
} from '../helpers/pcap-writer.ts';

interface Detection {
  timeMs: number;
  radio: Radio;
  /** Address bytes in the order the source handed them over, as hex. */
  addr: string;
  randomized: boolean;
  rssi: number;
}

/** Parses `bytes` (in chunks of `chunk` bytes) and returns the detections and the parser/dissector. */
function parse(bytes: Buffer, chunk = bytes.length) {
  const detections: Detection[] = [];
  const sink: DetectionSink = {
    detect(timeMs, radio, buf, offset, randomized, rssi) {
      detections.push({ timeMs, radio, addr: Buffer.from(buf.subarray(offset, offset + 6)).toString('hex'), randomized, rssi });
    },
  };
  const dissector = new FrameDissector(sink);
  const parser = new CaptureParser(dissector);
  for (let i = 0; i < bytes.length; i += chunk) parser.push(bytes.subarray(i, Math.min(bytes.length, i + chunk)));
  parser.end();
  return { detections, parser, dissector };
}

const T = 1_700_000_040_000; // a minute boundary
const hex = (mac: string): string => mac.replaceAll(':', '');
const rev = (mac: string): string => mac.split(':').reverse().join('');

const wifiFrames: Frame[] = [
  { timeMs: T, data: radiotapProbeRequest({ src: '02:00:00:00:00:01', rssi: -40 }) },
  { timeMs: T + 59_999.999, data: radiotapProbeRequest({ src: '00:11:22:33:44:55', rssi: -70, tsft: true, withFcs: true }) },
  { timeMs: T + 60_000, data: radiotapProbeRequest({ src: '00:11:22:33:44:55', rssi: -71, extendedBitmap: true, tsft: true }) },
  { timeMs: T + 60_001, data: radiotapProbeRequest({ src: '06:aa:bb:cc:dd:ee', badFcs: true, withFcs: true }) }, // dropped
  { timeMs: T + 60_002, data: radiotapProbeRequest({ src: '01:00:5e:00:00:01' }) }, // group bit: not a device
  { timeMs: T + 60_003, data: radiotapProbeRequest({ src: '00:11:22:33:44:66', type: 0, subtype: 8 }) }, // beacon
  { timeMs: T + 60_004, data: radiotapProbeRequest({ src: '00:11:22:33:44:77', type: 2, subtype: 0 }) }, // data
  { timeMs: T + 60_005, data: radiotapProbeRequest({ src: '12:34:56:78:9a:bc' }) }, // no RSSI
];

const expectedWifi = [
  { timeMs: T, radio: 'wifi', addr: '020000000001', randomized: true, rssi: -40 },
  { timeMs: T + 59_999.999, radio: 'wifi', addr: '001122334455', randomized: false, rssi: -70 },
  { timeMs: T + 60_000, radio: 'wifi', addr: '001122334455', randomized: false, rssi: -71 },
  { timeMs: T + 60_005, radio: 'wifi', addr: '123456789abc', randomized: true, rssi: NaN },
];

describe('pcap', () => {
  for (const bigEndian of [false, true]) {
    for (const nanos of [false, true]) {
      it(`reads ${bigEndian ? 'big' : 'little'}-endian ${nanos ? 'nanosecond' : 'microsecond'} files with radiotap`, () => {
        const { detections, dissector, parser } = parse(pcapBytes(wifiFrames, { linkType: LINKTYPE.RADIOTAP, bigEndian, nanos }));
        expect(parser.formatName).toBe('pcap');
        expect(parser.records).toBe(wifiFrames.length);
        expect(detections.map((d) => ({ ...d, timeMs: Math.round(d.timeMs * 1000) / 1000 }))).toEqual(expectedWifi);
        // The frame 1 µs before the minute stays in it.
        expect(Math.floor(detections[1]!.timeMs / 60_000)).toBe(T / 60_000);
        expect(dissector.skipped).toMatchObject({ badFcs: 1, notCounted: 3 });
      });
    }
  }

  it('reads plain 802.11 (link type 105)', () => {
    const frames: Frame[] = [
      { timeMs: T, data: ieee80211Frame({ src: '02:00:00:00:00:09' }) },
      { timeMs: T + 1, data: ieee80211Frame({ src: '02:00:00:00:00:09', subtype: 5 }) }, // probe response
      { timeMs: T + 2, data: ieee80211Frame({ src: '00:00:00:00:00:0a' }).subarray(0, 12) }, // too short
    ];
    const { detections, dissector } = parse(pcapBytes(frames, { linkType: LINKTYPE.IEEE802_11 }));
    expect(detections.map((d) => [d.addr, d.randomized, d.rssi])).toEqual([['020000000009', true, NaN]]);
    expect(dissector.skipped).toMatchObject({ notCounted: 1, malformed: 1 });
  });

  it('gives the same result whatever the chunk size (a pipe from tcpdump)', () => {
    const bytes = pcapBytes(wifiFrames, { linkType: LINKTYPE.RADIOTAP });
    const whole = parse(bytes).detections;
    for (const chunk of [1, 3, 7, 16, 24, 25, 64, 1000]) {
      expect(parse(bytes, chunk).detections, `chunk ${chunk}`).toEqual(whole);
    }
  });

  it('keeps nothing of a chunk after push: the caller may reuse its buffer', () => {
    const bytes = pcapBytes(wifiFrames, { linkType: LINKTYPE.RADIOTAP });
    const got: string[] = [];
    const parser = new CaptureParser(
      new FrameDissector({ detect: (_t, _r, buf, off) => void got.push(Buffer.from(buf.subarray(off, off + 6)).toString('hex')) }),
    );
    const reused = Buffer.alloc(10);
    for (let i = 0; i < bytes.length; i += 10) {
      const n = bytes.copy(reused, 0, i, i + 10);
      parser.push(reused.subarray(0, n));
      reused.fill(0xee);
    }
    parser.end();
    expect(got).toEqual(expectedWifi.map((d) => d.addr));
  });
});

describe('pcapng', () => {
  const ble = (advA: string, opts: Parameters<typeof bleAdvPdu>[0] extends infer O ? Partial<O> : never = {}) =>
    bleAdvPdu({ advA, txAdd: true, ...opts });

  it('reads several sections (either byte order), interfaces with their own link type and resolution, and skips unknown blocks', () => {
    const bytes = pcapngBytes([
      {
        bigEndian: false,
        withUnknownBlocks: true,
        interfaces: [
          { linkType: LINKTYPE.RADIOTAP }, // default microseconds
          { linkType: LINKTYPE.BLE_LL_PHDR, tsresol: 9 }, // nanoseconds
        ],
        frames: [
          { timeMs: T + 1.5, iface: 0, data: radiotapProbeRequest({ src: '02:00:00:00:00:01', rssi: -50 }) },
          { timeMs: T + 2.000001, iface: 1, data: blePhdrRecord(ble('c0:00:00:00:00:01'), { rssi: -66 }) },
        ],
      },
      {
        bigEndian: true,
        interfaces: [
          { linkType: LINKTYPE.BLE_LL, tsresol: 0x80 | 20 }, // 2^-20 s
          { linkType: LINKTYPE.IEEE802_11, tsresol: 3, tsoffsetSeconds: 1000 }, // milliseconds, offset
        ],
        frames: [
          { timeMs: T + 3.5, iface: 0, data: ble('c0:00:00:00:00:02', { txAdd: false }) },
          { timeMs: T + 4, iface: 1, data: ieee80211Frame({ src: '00:00:00:00:00:03' }) },
        ],
      },
    ]);
    const { detections, parser } = parse(bytes);
    expect(parser.formatName).toBe('pcapng');
    expect(parser.records).toBe(4);
    expect(detections.map((d) => [d.radio, d.addr, d.randomized, d.rssi])).toEqual([
      ['wifi', '020000000001', true, -50],
      ['ble', rev('c0:00:00:00:00:01'), true, -66],
      ['ble', rev('c0:00:00:00:00:02'), false, NaN],
      ['wifi', '000000000003', false, NaN],
    ]);
    expect(detections[0]!.timeMs).toBeCloseTo(T + 1.5, 6);
    expect(detections[1]!.timeMs).toBeCloseTo(T + 2.000001, 6);
    expect(detections[2]!.timeMs).toBeCloseTo(T + 3.5, 3); // 2^-20 s is about 1 µs
    expect(detections[3]!.timeMs).toBe(T + 4);
  });

  it('reads the obsolete packet block and simple packet blocks (time of the previous packet)', () => {
    const pb = pcapngBytes([
      { interfaces: [{ linkType: LINKTYPE.RADIOTAP }], packetBlock: 'pb', frames: wifiFrames.slice(0, 1) },
    ]);
    expect(parse(pb).detections.map((d) => [d.timeMs, d.addr])).toEqual([[T, '020000000001']]);
    const spb = Buffer.concat([
      pb,
      pcapngBytes([{ interfaces: [{ linkType: LINKTYPE.RADIOTAP }], packetBlock: 'spb', frames: wifiFrames.slice(1, 2) }]),
    ]);
    // The SPB's section starts anew; its packet takes the time of the last timed packet before it.
    const { detections } = parse(spb);
    expect(detections.map((d) => [d.timeMs, d.addr])).toEqual([
      [T, '020000000001'],
      [T, '001122334455'],
    ]);
  });

  it('skips simple packet blocks before any timed packet, with a warning', () => {
    const bytes = pcapngBytes([{ interfaces: [{ linkType: LINKTYPE.RADIOTAP }], packetBlock: 'spb', frames: wifiFrames.slice(0, 2) }]);
    const { detections, parser } = parse(bytes);
    expect(detections).toEqual([]);
    expect(parser.records).toBe(2);
    expect(parser.warnings.join()).toMatch(/simple packet blocks .* skipped/);
  });

  it('gives the same result whatever the chunk size', () => {
    const bytes = pcapngBytes([{ interfaces: [{ linkType: LINKTYPE.RADIOTAP, tsresol: 9 }], withUnknownBlocks: true, frames: wifiFrames }]);
    const whole = parse(bytes).detections;
    expect(whole).toHaveLength(4);
    for (const chunk of [1, 5, 12, 13, 100]) expect(parse(bytes, chunk).detections).toEqual(whole);
  });
});

describe('BLE link types', () => {
  const A = 'c4:11:22:33:44:55';

  it('251: counts advertising PDU types 0, 1, 2, 4, 6 with a good CRC, keyed on AdvA, TxAdd = randomized', () => {
    const frames: Frame[] = [0, 1, 2, 3, 4, 5, 6, 7].map((type, i) => ({ timeMs: T + i, data: bleAdvPdu({ advA: A, type, txAdd: i % 2 === 0 }) }));
    frames.push({ timeMs: T + 10, data: bleAdvPdu({ advA: A, crcOk: false }) });
    frames.push({ timeMs: T + 11, data: bleAdvPdu({ advA: A, accessAddress: 0x12345678 }) }); // data channel
    frames.push({ timeMs: T + 12, data: bleAdvPdu({ advA: A }).subarray(0, 12) }); // cut short
    const { detections, dissector } = parse(pcapBytes(frames, { linkType: LINKTYPE.BLE_LL }));
    expect(detections.map((d) => [d.timeMs - T, d.addr, d.randomized])).toEqual([
      [0, rev(A), true],
      [1, rev(A), false],
      [2, rev(A), true],
      [4, rev(A), true],
      [6, rev(A), true],
    ]);
    expect(dissector.skipped).toMatchObject({ badCrc: 1, notCounted: 4, malformed: 1 });
  });

  it('256: trusts the sniffer CRC flags when it checked, verifies the CRC itself when it did not, reads the RSSI', () => {
    const good = bleAdvPdu({ advA: A, txAdd: true });
    const bad = bleAdvPdu({ advA: A, txAdd: true, crcOk: false });
    const frames: Frame[] = [
      { timeMs: T, data: blePhdrRecord(good, { rssi: -61 }) }, // unchecked, good
      { timeMs: T + 1, data: blePhdrRecord(bad) }, // unchecked, bad: our check drops it
      { timeMs: T + 2, data: blePhdrRecord(bad, { crcChecked: true, crcValid: true }) }, // sniffer says valid
      { timeMs: T + 3, data: blePhdrRecord(good, { crcChecked: true, crcValid: false }) }, // sniffer says invalid
      { timeMs: T + 4, data: blePhdrRecord(good, { dewhitened: false }) }, // still whitened
    ];
    const { detections, dissector } = parse(pcapBytes(frames, { linkType: LINKTYPE.BLE_LL_PHDR }));
    expect(detections.map((d) => [d.timeMs - T, d.rssi])).toEqual([
      [0, -61],
      [2, NaN],
    ]);
    expect(dissector.skipped).toMatchObject({ badCrc: 2, unsupported: 1 });
    expect(dissector.warnings.join()).toMatch(/de-whiten/);
  });

  it('272 (nRF Sniffer): protocol 2 and 3, the CRC-OK flag, RSSI as sent', () => {
    const pdu = bleAdvPdu({ advA: A, txAdd: false });
    const frames: Frame[] = [
      { timeMs: T, data: nordicBleRecord(pdu, { rssi: -77, protover: 2 }) },
      { timeMs: T + 1, data: nordicBleRecord(pdu, { rssi: -58, protover: 3 }) },
      { timeMs: T + 2, data: nordicBleRecord(pdu, { crcOk: false }) },
    ];
    const { detections, dissector } = parse(pcapBytes(frames, { linkType: LINKTYPE.NORDIC_BLE }));
    expect(detections.map((d) => [d.addr, d.randomized, d.rssi])).toEqual([
      [rev(A), false, -77],
      [rev(A), false, -58],
    ]);
    expect(dissector.skipped.badCrc).toBe(1);
  });
});

describe('btsnoop', () => {
  const A = 'd0:00:00:00:00:01';
  const B = '5a:00:00:00:00:02';

  it('reads a btmon (Linux monitor) log: advertising reports, legacy and extended, address type from the report', () => {
    const records: Frame[] = [
      { timeMs: T, data: hciLeAdvReport({ addr: A, addrType: 0, rssi: -55 }) },
      { timeMs: T + 1, data: hciLeAdvReport({ addr: B, addrType: 1, rssi: 127 }) }, // 127 = no RSSI
      { timeMs: T + 2, data: hciLeExtAdvReport({ addr: B, addrType: 1, rssi: -80 }) },
      { timeMs: T + 3, data: hciLeExtAdvReport({ addr: B, addrType: 1, dataStatus: 1 }) }, // more to come: not yet
      { timeMs: T + 4, data: hciLeExtAdvReport({ addr: B, addrType: 0xff }) }, // anonymous
      { timeMs: T + 5, data: hciResetCommand(), flags: 2 }, // a command
      { timeMs: T + 6, data: hciLeAdvReport({ addr: A }), flags: 5 }, // ACL rx opcode, not an event
    ];
    const { detections, parser } = parse(btsnoopBytes(records, BTSNOOP.MONITOR));
    expect(parser.formatName).toBe('btsnoop');
    expect(parser.records).toBe(7);
    expect(detections.map((d) => [d.timeMs - T, d.radio, d.addr, d.randomized, d.rssi])).toEqual([
      [0, 'ble', rev(A), false, -55],
      [1, 'ble', rev(B), true, NaN],
      [2, 'ble', rev(B), true, -80],
    ]);
  });

  it('reads H4 (1002) and un-encapsulated (1001) logs', () => {
    const h4 = btsnoopBytes(
      [
        { timeMs: T, data: Buffer.concat([Buffer.from([0x04]), hciLeAdvReport({ addr: A })]) },
        { timeMs: T + 1, data: Buffer.concat([Buffer.from([0x01]), hciResetCommand()]) },
      ],
      BTSNOOP.HCI_H4,
    );
    expect(parse(h4).detections.map((d) => d.addr)).toEqual([rev(A)]);
    const h1 = btsnoopBytes(
      [
        { timeMs: T, data: hciLeAdvReport({ addr: A, addrType: 3 }), flags: 3 }, // received event
        { timeMs: T + 1, data: hciResetCommand(), flags: 2 }, // sent command
      ],
      BTSNOOP.HCI_H1,
    );
    expect(parse(h1).detections.map((d) => [d.addr, d.randomized])).toEqual([[rev(A), true]]);
  });
});

describe('damaged captures', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-formats-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a truncated last record ends the capture with a warning naming its offset', () => {
    const bytes = pcapBytes(wifiFrames, { linkType: LINKTYPE.RADIOTAP });
    const { detections, parser } = parse(bytes.subarray(0, bytes.length - 5));
    expect(detections).toHaveLength(3); // the last frame (cut) would have been the fourth
    expect(parser.warnings).toHaveLength(1);
    const lastRecord = bytes.length - (16 + wifiFrames.at(-1)!.data.length);
    expect(parser.warnings[0]).toContain(`truncated last record at byte offset ${lastRecord}`);
  });

  it('a file cut inside its header is an error', () => {
    const bytes = pcapBytes(wifiFrames, { linkType: LINKTYPE.RADIOTAP });
    expect(() => parse(bytes.subarray(0, 20))).toThrow(/ends inside the file header/);
    expect(() => parse(Buffer.alloc(0))).toThrow(/empty capture/);
  });

  it('a file that is no capture is an error naming offset 0', () => {
    expect(() => parse(Buffer.from('hello, this is not a capture file'))).toThrow(/not a capture file.*at byte offset 0/);
  });

  it('a corrupt pcap record length is an error naming the record offset', () => {
    const bytes = pcapBytes(wifiFrames, { linkType: LINKTYPE.RADIOTAP });
    const second = 24 + 16 + wifiFrames[0]!.data.length;
    bytes.writeUInt32LE(0x7fffffff, second + 8);
    expect(() => parse(bytes)).toThrow(new RegExp(`captured length 2147483647 .*at byte offset ${second}\\)`));
  });

  it('a pcapng block whose trailing length differs is an error naming the offset', () => {
    const bytes = pcapngBytes([{ interfaces: [{ linkType: LINKTYPE.RADIOTAP }], frames: wifiFrames.slice(0, 2) }]);
    bytes.writeUInt32LE(12345, bytes.length - 4);
    expect(() => parse(bytes)).toThrow(new RegExp(`trailing length .*at byte offset ${bytes.length - 4}\\)`));
  });

  it('an unsupported link type is skipped with one warning', () => {
    const file = path.join(dir, 'ethernet.pcap');
    writePcap(file, wifiFrames.slice(0, 3), { linkType: 1 });
    const { detections, dissector } = parse(fs.readFileSync(file));
    expect(detections).toEqual([]);
    expect(dissector.warnings).toEqual(['link type 1 is not supported: its records are not counted']);
    expect(dissector.skipped.unsupported).toBe(3);
  });
});

describe('test helpers agree with the specification', () => {
  it('radiotap helper writes the addresses it was given', () => {
    expect(radiotapProbeRequest({ src: '02:11:22:33:44:55' }).toString('hex')).toContain(hex('02:11:22:33:44:55'));
  });
});
