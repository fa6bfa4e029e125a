/**
 * Writes small captures with known content for tests: pcap, pcapng and btsnoop containers, and the frames to put
 * in them (radiotap + 802.11 probe requests, BLE advertising PDUs with or without a good CRC, HCI LE advertising
 * reports). Everything is built byte by byte here, independently of the parsers under test.
 *
 * Addresses are written as text ('aa:bb:cc:dd:ee:ff'). Wi-Fi frames carry them in that order; BLE frames and HCI
 * reports carry them least significant octet first, as on air (so 'aa:..:ff' is stored ff ee dd cc bb aa).
 *
 *   const frames = [
 *     { timeMs: 1_700_000_000_000, data: radiotapProbeRequest({ src: '02:11:22:33:44:55', rssi: -60 }) },
 *     { timeMs: 1_700_000_001_000, data: radiotapProbeRequest({ src: '3c:22:fb:00:00:01', badFcs: true }) },
 *   ];
 *   writePcap(file, frames, { linkType: LINKTYPE.RADIOTAP });
 *   writePcapng(file2, [{ timeMs, data: blePhdrRecord(bleAdvPdu({ advA: 'c0:ff:ee:00:00:01', txAdd: true })) }],
 *     { interfaces: [{ linkType: LINKTYPE.BLE_LL_PHDR }] });
 */
import fs from 'node:fs';

/** Link types used by the writers. */
export const LINKTYPE = {
  IEEE802_11: 105,
  RADIOTAP: 127,
  HCI_H4: 187,
  BLE_LL: 251,
  LINUX_MONITOR: 254,
  BLE_LL_PHDR: 256,
  NORDIC_BLE: 272,
} as const;

/** btsnoop datalinks. */
export const BTSNOOP = { HCI_H1: 1001, HCI_H4: 1002, MONITOR: 2001 } as const;

export interface Frame {
  /** Capture time, Unix milliseconds (fractions kept to the microsecond, or nanosecond with `nanos`). */
  timeMs: number;
  data: Uint8Array;
  /** pcapng: interface index (default 0). btsnoop: record flags (default: a received event). */
  iface?: number;
  flags?: number;
}

/** 'aa:bb:cc:dd:ee:ff' (or with dashes) -> 6 bytes in that order. */
export function macBytes(text: string): Buffer {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6) throw new Error(`not a MAC address: ${text}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

// ---------------------------------------------------------------------------------------------- containers

export interface PcapOptions {
  linkType: number;
  /** Nanosecond timestamps (magic a1b23c4d); default microseconds. */
  nanos?: boolean;
  bigEndian?: boolean;
  snaplen?: number;
}

/** A pcap file's bytes. */
export function pcapBytes(frames: Frame[], opts: PcapOptions): Buffer {
  const be = opts.bigEndian === true;
  const head = Buffer.alloc(24);
  u32(head, 0, opts.nanos === true ? 0xa1b23c4d : 0xa1b2c3d4, be);
  u16(head, 4, 2, be);
  u16(head, 6, 4, be);
  u32(head, 16, opts.snaplen ?? 262144, be);
  u32(head, 20, opts.linkType, be);
  const parts: Buffer[] = [head];
  for (const f of frames) {
    const rec = Buffer.alloc(16);
    const { sec, frac } = splitTime(f.timeMs, opts.nanos === true ? 1e9 : 1e6);
    u32(rec, 0, sec, be);
    u32(rec, 4, frac, be);
    u32(rec, 8, f.data.length, be);
    u32(rec, 12, f.data.length, be);
    parts.push(rec, Buffer.from(f.data));
  }
  return Buffer.concat(parts);
}

export function writePcap(file: string, frames: Frame[], opts: PcapOptions): void {
  fs.writeFileSync(file, pcapBytes(frames, opts));
}

export interface PcapngInterface {
  linkType: number;
  /** if_tsresol option byte: 6 = microseconds (the default when absent), 9 = nanoseconds, 0x80 | n = 2^-n s. */
  tsresol?: number;
  /** if_tsoffset option, seconds. */
  tsoffsetSeconds?: number;
  snaplen?: number;
}

export interface PcapngSection {
  interfaces: PcapngInterface[];
  frames: Frame[];
  bigEndian?: boolean;
  /** Packet block kind: enhanced (default), the obsolete packet block, or simple (no time, interface 0). */
  packetBlock?: 'epb' | 'pb' | 'spb';
  /** Adds a block of an unknown type (and a name resolution block) that readers must skip. */
  withUnknownBlocks?: boolean;
}

/** A pcapng file's bytes: one section per entry (each with its own byte order and interfaces). */
export function pcapngBytes(sections: PcapngSection[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of sections) {
    const be = s.bigEndian === true;
    // Section Header Block: BOM, version 1.0, section length -1, no options.
    const shbBody = Buffer.alloc(16);
    u32(shbBody, 0, 0x1a2b3c4d, be);
    u16(shbBody, 4, 1, be);
    u16(shbBody, 6, 0, be);
    shbBody.writeInt32LE(-1, 8);
    shbBody.writeInt32LE(-1, 12);
    parts.push(block(0x0a0d0d0a, shbBody, be));
    if (s.withUnknownBlocks === true) parts.push(block(0x00000bad, Buffer.from('ignore me!!!'), be));
    for (const i of s.interfaces) {
      const opts: Buffer[] = [];
      if (i.tsresol !== undefined) opts.push(option(9, Buffer.from([i.tsresol]), be));
      if (i.tsoffsetSeconds !== undefined) {
        const v = Buffer.alloc(8);
        if (be) v.writeBigInt64BE(BigInt(i.tsoffsetSeconds));
        else v.writeBigInt64LE(BigInt(i.tsoffsetSeconds));
        opts.push(option(14, v, be));
      }
      if (opts.length > 0) opts.push(option(0, Buffer.alloc(0), be));
      const body = Buffer.alloc(8);
      u16(body, 0, i.linkType, be);
      u32(body, 4, i.snaplen ?? 0, be);
      parts.push(block(1, Buffer.concat([body, ...opts]), be));
    }
    if (s.withUnknownBlocks === true) parts.push(block(0x00000004, Buffer.from([0, 0, 0, 0]), be));
    for (const f of s.frames) {
      const iface = s.interfaces[f.iface ?? 0]!;
      const data = pad4(Buffer.from(f.data));
      if (s.packetBlock === 'spb') {
        const h = Buffer.alloc(4);
        u32(h, 0, f.data.length, be);
        parts.push(block(3, Buffer.concat([h, data]), be));
        continue;
      }
      const ts = toUnits(f.timeMs - (iface.tsoffsetSeconds ?? 0) * 1000, iface.tsresol ?? 6);
      const h = Buffer.alloc(20);
      if (s.packetBlock === 'pb') {
        u16(h, 0, f.iface ?? 0, be);
        u16(h, 2, 0, be);
      } else {
        u32(h, 0, f.iface ?? 0, be);
      }
      u32(h, 4, Number(ts >> 32n), be);
      u32(h, 8, Number(ts & 0xffffffffn), be);
      u32(h, 12, f.data.length, be);
      u32(h, 16, f.data.length, be);
      parts.push(block(s.packetBlock === 'pb' ? 2 : 6, Buffer.concat([h, data]), be));
    }
  }
  return Buffer.concat(parts);
}

export function writePcapng(file: string, frames: Frame[], opts: Omit<PcapngSection, 'frames'>): void {
  fs.writeFileSync(file, pcapngBytes([{ ...opts, frames }]));
}

/** A btsnoop file's bytes (big endian; times in microseconds since 0000-01-01). */
export function btsnoopBytes(records: Frame[], datalink: number): Buffer {
  const head = Buffer.alloc(16);
  head.write('btsnoop\0', 0, 'latin1');
  head.writeUInt32BE(1, 8);
  head.writeUInt32BE(datalink, 12);
  const parts: Buffer[] = [head];
  const epochUs = 0x00dcddb30f2f8000n;
  for (const r of records) {
    const h = Buffer.alloc(24);
    h.writeUInt32BE(r.data.length, 0);
    h.writeUInt32BE(r.data.length, 4);
    // Default flags: a received event (H1: bits 0 and 1; monitor: opcode 3 = event, index 0).
    h.writeUInt32BE(r.flags ?? (datalink === BTSNOOP.MONITOR ? 3 : 3), 8);
    h.writeUInt32BE(0, 12);
    h.writeBigUInt64BE(epochUs + BigInt(Math.round(r.timeMs * 1000)), 16);
    parts.push(h, Buffer.from(r.data));
  }
  return Buffer.concat(parts);
}

export function writeBtsnoop(file: string, records: Frame[], datalink: number = BTSNOOP.MONITOR): void {
  fs.writeFileSync(file, btsnoopBytes(records, datalink));
}

// ---------------------------------------------------------------------------------------------- Wi-Fi frames

export interface ProbeRequestOptions {
  /** Transmitter address (addr2). */
  src: string;
  /** Frame type/subtype; default 0/4 (probe request). E.g. 0/8 beacon, 2/0 data. */
  type?: number;
  subtype?: number;
}

/** A plain 802.11 management frame (link type 105): 24-byte header, an empty SSID element. */
export function ieee80211Frame(opts: ProbeRequestOptions): Buffer {
  const f = Buffer.alloc(26);
  f[0] = ((opts.subtype ?? 4) << 4) | ((opts.type ?? 0) << 2);
  f.fill(0xff, 4, 10); // addr1 broadcast
  macBytes(opts.src).copy(f, 10); // addr2
  f.fill(0xff, 16, 22); // addr3
  f[24] = 0; // SSID element, length 0
  f[25] = 0;
  return f;
}

export interface RadiotapProbeOptions extends ProbeRequestOptions {
  /** dBm antenna signal; omitted = no signal field. */
  rssi?: number;
  /** Radiotap flags mark the FCS as bad (frame must be dropped). */
  badFcs?: boolean;
  /** 4 FCS bytes at the end (flag 0x10). Their value is arbitrary: it must never be checked. */
  withFcs?: boolean;
  /** Include TSFT (8-byte aligned) and an extended present bitmap, to exercise alignment. */
  tsft?: boolean;
  extendedBitmap?: boolean;
}

/** A radiotap header (present: [TSFT], Flags (if needed), Rate, Channel, [dBm signal]) + an 802.11 frame. */
export function radiotapProbeRequest(opts: RadiotapProbeOptions): Buffer {
  const withFlags = opts.badFcs === true || opts.withFcs === true;
  let present = (1 << 2) | (1 << 3);
  if (opts.tsft === true) present |= 1 << 0;
  if (withFlags) present |= 1 << 1;
  if (opts.rssi !== undefined) present |= 1 << 5;
  const words = [present];
  if (opts.extendedBitmap === true) {
    words[0]! |= 1 << 29 | 1 << 31; // radiotap namespace next + ext
    words.push(1 << 5); // a second antenna signal in the next namespace
  }
  const fields: number[] = [];
  let pos = 4 + 4 * words.length;
  const put = (bytes: number[], align: number): void => {
    while (pos % align !== 0) {
      fields.push(0);
      pos++;
    }
    fields.push(...bytes);
    pos += bytes.length;
  };
  if (opts.tsft === true) put([1, 2, 3, 4, 5, 6, 7, 8], 8);
  if (withFlags) put([(opts.withFcs === true ? 0x10 : 0) | (opts.badFcs === true ? 0x40 : 0)], 1);
  put([2], 1); // rate 1 Mb/s
  put([0x6c, 0x09, 0xa0, 0x00], 2); // 2412 MHz, 2 GHz CCK
  if (opts.rssi !== undefined) put([opts.rssi & 0xff], 1);
  if (opts.extendedBitmap === true) put([0xb0], 1); // the second namespace's signal (-80 dBm), ignored
  const header = Buffer.alloc(pos);
  header[0] = 0;
  header.writeUInt16LE(pos, 2);
  words.forEach((w, i) => header.writeUInt32LE(w >>> 0, 4 + 4 * i));
  Buffer.from(fields).copy(header, 4 + 4 * words.length);
  const frame = ieee80211Frame(opts);
  const parts = [header, frame];
  if (opts.withFcs === true) parts.push(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------- BLE

export interface BleAdvOptions {
  /** Advertiser address as written ('aa:bb:..'); stored least significant octet first. */
  advA: string;
  /** TxAdd: random address. */
  txAdd?: boolean;
  /** PDU type: 0 ADV_IND (default), 1 ADV_DIRECT_IND, 2 ADV_NONCONN_IND, 3 SCAN_REQ, 4 SCAN_RSP, 5 CONNECT_IND, 6 ADV_SCAN_IND. */
  type?: number;
  /** false: the CRC is wrong. Default true. */
  crcOk?: boolean;
  /** Payload after AdvA (advertising data); default a flags AD structure. */
  data?: Uint8Array;
  /** Access address; default the advertising one. */
  accessAddress?: number;
}

/** A link-layer packet as sniffed: access address (4), header (2), AdvA (6) + data, CRC (3). */
export function bleAdvPdu(opts: BleAdvOptions): Buffer {
  const data = Buffer.from(opts.data ?? [0x02, 0x01, 0x06]);
  const payload = Buffer.concat([macBytes(opts.advA).reverse(), data]);
  const pdu = Buffer.alloc(4 + 2 + payload.length + 3);
  pdu.writeUInt32LE(opts.accessAddress ?? 0x8e89bed6, 0);
  pdu[4] = (opts.type ?? 0) | (opts.txAdd === true ? 0x40 : 0);
  pdu[5] = payload.length;
  payload.copy(pdu, 6);
  let crc = referenceBleCrc(pdu.subarray(4, 6 + payload.length));
  if (opts.crcOk === false) crc ^= 0x000100;
  pdu[6 + payload.length] = crc & 0xff;
  pdu[7 + payload.length] = (crc >> 8) & 0xff;
  pdu[8 + payload.length] = (crc >> 16) & 0xff;
  return pdu;
}

/**
 * The BLE CRC-24 written straight from the specification's LFSR (Core spec Vol 6 Part B 3.1.1): register
 * preset with 0x555555 (position 0 = its LSB), data bits LSB first, the result sent from position 23 down, so
 * that each byte of the packet holds the register bits in transmission order. Bitwise, on purpose unlike the
 * table-driven one under test.
 */
export function referenceBleCrc(bytes: Uint8Array, init = 0x555555): number {
  const reg: number[] = [];
  for (let i = 0; i < 24; i++) reg.push((init >> i) & 1);
  for (const byte of bytes) {
    for (let b = 0; b < 8; b++) {
      const fb = reg[23]! ^ ((byte >> b) & 1);
      for (let i = 23; i > 0; i--) reg[i] = reg[i - 1]!;
      reg[0] = fb;
      // Taps of x^24 + x^10 + x^9 + x^6 + x^4 + x^3 + x + 1: positions 1, 3, 4, 6, 9, 10 take the feedback.
      for (const t of [1, 3, 4, 6, 9, 10]) reg[t]! ^= fb;
    }
  }
  // Transmission order: position 23 first; packed LSB-first into bytes.
  let out = 0;
  for (let k = 0; k < 24; k++) out |= reg[23 - k]! << k;
  return out >>> 0;
}

export interface PhdrOptions {
  /** dBm; sets the signal-power-valid flag. */
  rssi?: number;
  crcChecked?: boolean;
  crcValid?: boolean;
  /** Default true; false marks the bytes as still whitened. */
  dewhitened?: boolean;
  channel?: number;
}

/** A link type 256 record: the 10-byte LE LL PHDR, then the packet. */
export function blePhdrRecord(pdu: Uint8Array, opts: PhdrOptions = {}): Buffer {
  const h = Buffer.alloc(10);
  h[0] = opts.channel ?? 12;
  let flags = opts.dewhitened === false ? 0 : 0x0001;
  if (opts.rssi !== undefined) {
    h.writeInt8(opts.rssi, 1);
    flags |= 0x0002;
  }
  if (opts.crcChecked === true) flags |= 0x0400;
  if (opts.crcValid === true) flags |= 0x0800;
  h.writeUInt16LE(flags, 8);
  return Buffer.concat([h, Buffer.from(pdu)]);
}

export interface NordicOptions {
  rssi?: number;
  crcOk?: boolean;
  /** Protocol version 2 (default) or 3. */
  protover?: 2 | 3;
}

/** A link type 272 (nRF Sniffer) record: board id, header (protocol 2 or 3), event packet header, packet. */
export function nordicBleRecord(pdu: Uint8Array, opts: NordicOptions = {}): Buffer {
  const h = Buffer.alloc(17);
  h[0] = 1; // board id
  h.writeUInt16LE(10 + pdu.length, 1); // payload length
  h[3] = opts.protover ?? 2;
  h.writeUInt16LE(7, 4); // packet counter
  h[6] = opts.protover === 3 ? 0x02 : 0x06; // packet id: advertising (3) / event packet (2)
  h[7] = 10; // event packet header length
  h[8] = opts.crcOk === false ? 0 : 1; // flags: CRC OK
  h[9] = 38; // channel
  h[10] = -(opts.rssi ?? -70) & 0xff; // RSSI, as a positive number
  return Buffer.concat([h, Buffer.from(pdu)]);
}

export interface HciReportOptions {
  /** Advertiser address as written; stored least significant octet first. */
  addr: string;
  /** 0 public, 1 random, 2 public identity, 3 random identity. */
  addrType?: number;
  rssi?: number;
  /** Legacy event type 0-4 (default 0). */
  eventType?: number;
}

/** An HCI LE Meta event with one LE Advertising Report (no H4 type byte). */
export function hciLeAdvReport(opts: HciReportOptions): Buffer {
  const data = Buffer.from([0x02, 0x01, 0x06]);
  const params = Buffer.concat([
    Buffer.from([0x02, 1, opts.eventType ?? 0, opts.addrType ?? 0]),
    macBytes(opts.addr).reverse(),
    Buffer.from([data.length]),
    data,
    Buffer.from([(opts.rssi ?? -60) & 0xff]),
  ]);
  return Buffer.concat([Buffer.from([0x3e, params.length]), params]);
}

/** An HCI LE Meta event with one LE Extended Advertising Report (no H4 type byte). */
export function hciLeExtAdvReport(opts: HciReportOptions & { dataStatus?: number }): Buffer {
  const r = Buffer.alloc(24);
  r.writeUInt16LE(0x0013 | ((opts.dataStatus ?? 0) << 5), 0); // legacy ADV_IND + data status
  r[2] = opts.addrType ?? 1;
  macBytes(opts.addr).reverse().copy(r, 3);
  r[9] = 1; // primary PHY 1M
  r[12] = 0x7f; // tx power unavailable
  r.writeInt8(opts.rssi ?? -60, 13);
  r[23] = 0; // no data
  const params = Buffer.concat([Buffer.from([0x0d, 1]), r]);
  return Buffer.concat([Buffer.from([0x3e, params.length]), params]);
}

/** An HCI command (not an event): must not be counted. */
export function hciResetCommand(): Buffer {
  return Buffer.from([0x03, 0x0c, 0x00]);
}

// ---------------------------------------------------------------------------------------------- internals

function u16(b: Buffer, o: number, v: number, be: boolean): void {
  if (be) b.writeUInt16BE(v, o);
  else b.writeUInt16LE(v, o);
}

function u32(b: Buffer, o: number, v: number, be: boolean): void {
  if (be) b.writeUInt32BE(v >>> 0, o);
  else b.writeUInt32LE(v >>> 0, o);
}

function pad4(b: Buffer): Buffer {
  const rem = b.length % 4;
  return rem === 0 ? b : Buffer.concat([b, Buffer.alloc(4 - rem)]);
}

function option(code: number, value: Buffer, be: boolean): Buffer {
  const h = Buffer.alloc(4);
  u16(h, 0, code, be);
  u16(h, 2, value.length, be);
  return Buffer.concat([h, pad4(value)]);
}

function block(type: number, body: Buffer, be: boolean): Buffer {
  const b = pad4(body);
  const len = 12 + b.length;
  const h = Buffer.alloc(8);
  const t = Buffer.alloc(4);
  u32(h, 0, type, be);
  u32(h, 4, len, be);
  u32(t, 0, len, be);
  return Buffer.concat([h, b, t]);
}

/** Splits Unix ms into whole seconds and the fraction in 1/`perSecond` units, without float drift. */
function splitTime(timeMs: number, perSecond: number): { sec: number; frac: number } {
  const sec = Math.floor(timeMs / 1000);
  const frac = Math.round(((timeMs - sec * 1000) * perSecond) / 1000);
  return { sec, frac };
}

/** Unix ms -> timestamp units of an if_tsresol byte, as a 64-bit integer. */
function toUnits(timeMs: number, tsresol: number): bigint {
  const { sec, frac } = splitTime(timeMs, 1e9); // nanoseconds
  const ns = BigInt(sec) * 1_000_000_000n + BigInt(frac);
  if ((tsresol & 0x80) === 0) {
    const exp = tsresol;
    return exp >= 9 ? ns * 10n ** BigInt(exp - 9) : ns / 10n ** BigInt(9 - exp);
  }
  const exp = BigInt(tsresol & 0x7f);
  return (ns << exp) / 1_000_000_000n;
}
