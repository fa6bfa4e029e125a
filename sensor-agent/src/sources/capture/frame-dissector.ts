/**
 * Turns capture records into detections: dispatches on the link type, applies the counting rule of each radio
 * (802.11 probe requests; BLE advertising PDUs with a good CRC; HCI advertising reports) and hands the address,
 * as a view into the record, to the DetectionSink. Records that are not counted are tallied by reason.
 */
import type { DetectionSink } from '../../pipeline/types.ts';
import { BleVerdict, CrcState, checkAdvertisingPdu, txAddOf } from './ble-pdu.ts';
import { LinkType, type FrameHandler } from './frame-handler.ts';
import { dissectHciEvent } from './hci-events.ts';
import { RADIOTAP_FLAG_BAD_FCS, RADIOTAP_FLAG_FCS_AT_END, parseRadiotap, type RadiotapInfo } from './radiotap.ts';

/** Records not counted, by reason. */
export interface SkipCounts {
  /** Radiotap flags mark the FCS as bad. */
  badFcs: number;
  /** BLE PDU whose CRC is wrong (checked by us or by the sniffer). */
  badCrc: number;
  /** Well-formed but not counted: other frame types, data channels, group source address, other HCI packets. */
  notCounted: number;
  /** Too short or inconsistent headers. */
  malformed: number;
  /** Link type (or BLE encoding) this dissector cannot read. */
  unsupported: number;
}

/** LE LL with PHDR (256) flags. */
const PHDR_DEWHITENED = 0x0001;
const PHDR_SIGNAL_VALID = 0x0002;
const PHDR_CRC_CHECKED = 0x0400;
const PHDR_CRC_VALID = 0x0800;
/** Linux monitor / btsnoop monitor opcode of an HCI event. */
const MONITOR_EVENT = 3;
const H4_EVENT = 0x04;

export class FrameDissector implements FrameHandler {
  readonly skipped: SkipCounts = { badFcs: 0, badCrc: 0, notCounted: 0, malformed: 0, unsupported: 0 };
  /** Detections handed to the sink. */
  detections = 0;
  #sink: DetectionSink;
  #radiotap: RadiotapInfo = { length: 0, flags: 0, rssi: NaN };
  #warned = new Set<string>();
  #warnings: string[] = [];

  constructor(sink: DetectionSink) {
    this.#sink = sink;
  }

  /** One line per kind of problem met (unsupported link types, whitened BLE data), each said once. */
  get warnings(): string[] {
    return this.#warnings;
  }

  onFrame(timeMs: number, linkType: number, buf: Buffer, off: number, len: number, aux: number): void {
    switch (linkType) {
      case LinkType.IEEE802_11_RADIOTAP:
        return this.#radiotapFrame(timeMs, buf, off, len);
      case LinkType.IEEE802_11:
        return this.#wifi(timeMs, buf, off, len, NaN);
      case LinkType.BLUETOOTH_LE_LL:
        return this.#ble(timeMs, buf, off, off + len, CrcState.UNKNOWN, NaN);
      case LinkType.BLUETOOTH_LE_LL_WITH_PHDR:
        return this.#blePhdr(timeMs, buf, off, len);
      case LinkType.NORDIC_BLE:
        return this.#nordic(timeMs, buf, off, len);
      case LinkType.BLUETOOTH_HCI_H4:
        if (len < 1 || buf[off] !== H4_EVENT) return this.#notCounted();
        return this.#hci(timeMs, buf, off + 1, off + len);
      case LinkType.BLUETOOTH_HCI_H4_WITH_PHDR:
        if (len < 5 || buf[off + 4] !== H4_EVENT) return this.#notCounted();
        return this.#hci(timeMs, buf, off + 5, off + len);
      case LinkType.BLUETOOTH_LINUX_MONITOR:
        if (len < 4 || ((buf[off + 2]! << 8) | buf[off + 3]!) !== MONITOR_EVENT) return this.#notCounted();
        return this.#hci(timeMs, buf, off + 4, off + len);
      case LinkType.BTSNOOP_MONITOR:
        if ((aux & 0xffff) !== MONITOR_EVENT) return this.#notCounted();
        return this.#hci(timeMs, buf, off, off + len);
      case LinkType.BTSNOOP_HCI_H1:
        // Flags: bit 0 = received (controller to host), bit 1 = command/event rather than data.
        if ((aux & 3) !== 3) return this.#notCounted();
        return this.#hci(timeMs, buf, off, off + len);
      default:
        this.skipped.unsupported++;
        this.#warnOnce(`lt${linkType}`, `link type ${linkType} is not supported: its records are not counted`);
    }
  }

  #radiotapFrame(timeMs: number, buf: Buffer, off: number, len: number): void {
    const rt = this.#radiotap;
    if (!parseRadiotap(buf, off, len, rt)) {
      this.skipped.malformed++;
      return;
    }
    if ((rt.flags & RADIOTAP_FLAG_BAD_FCS) !== 0) {
      this.skipped.badFcs++;
      return;
    }
    // The FCS is never recomputed (some datasets rewrote addresses without updating it); it is only cut off.
    const fcs = (rt.flags & RADIOTAP_FLAG_FCS_AT_END) !== 0 ? 4 : 0;
    this.#wifi(timeMs, buf, off + rt.length, len - rt.length - fcs, rt.rssi);
  }

  /** An 802.11 frame: counts probe requests (type 0, subtype 4) by transmitter address (addr2). */
  #wifi(timeMs: number, buf: Buffer, off: number, len: number, rssi: number): void {
    if (len < 16) {
      this.skipped.malformed++;
      return;
    }
    // Frame control, first octet: protocol version (bits 0-1), type (2-3), subtype (4-7).
    if ((buf[off]! & 0xfc) !== 0x40) return this.#notCounted();
    const first = buf[off + 10]!;
    // Group bit: no real transmitter sends with it.
    if ((first & 0x01) !== 0) return this.#notCounted();
    this.detections++;
    this.#sink.detect(timeMs, 'wifi', buf, off + 10, (first & 0x02) !== 0, rssi);
  }

  #ble(timeMs: number, buf: Buffer, p: number, end: number, crc: CrcState, rssi: number): void {
    const verdict = checkAdvertisingPdu(buf, p, end, crc);
    if (verdict === BleVerdict.COUNTED) {
      this.detections++;
      this.#sink.detect(timeMs, 'ble', buf, p + 6, txAddOf(buf, p), rssi);
    } else if (verdict === BleVerdict.BAD_CRC) {
      this.skipped.badCrc++;
    } else if (verdict === BleVerdict.TOO_SHORT) {
      this.skipped.malformed++;
    } else {
      this.skipped.notCounted++;
    }
  }

  /** LE LL with PHDR (256): channel, signal, noise, AA offenses, reference AA (4), flags (2), then the LL packet. */
  #blePhdr(timeMs: number, buf: Buffer, off: number, len: number): void {
    if (len < 10) {
      this.skipped.malformed++;
      return;
    }
    const flags = buf[off + 8]! | (buf[off + 9]! << 8);
    if ((flags & PHDR_DEWHITENED) === 0) {
      this.skipped.unsupported++;
      this.#warnOnce('whitened', 'BLE packets that the sniffer did not de-whiten were skipped');
      return;
    }
    const crc = (flags & PHDR_CRC_CHECKED) === 0 ? CrcState.UNKNOWN : (flags & PHDR_CRC_VALID) !== 0 ? CrcState.VALID : CrcState.INVALID;
    const signal = buf[off + 1]!;
    const rssi = (flags & PHDR_SIGNAL_VALID) !== 0 ? (signal > 127 ? signal - 256 : signal) : NaN;
    this.#ble(timeMs, buf, off + 10, off + len, crc, rssi);
  }

  /**
   * Nordic nRF Sniffer (272): board id, then a header (legacy 0xBEEF form or protocol version 1-3), then an
   * event packet header (length, flags with CRC-OK in bit 0, channel, RSSI as a positive number, event counter,
   * time), then the LL packet. Layout as in Wireshark's packet-nordic_ble.c.
   */
  #nordic(timeMs: number, buf: Buffer, off: number, len: number): void {
    const end = off + len;
    let flagsAt: number;
    let llAt: number;
    if (len >= 2 && buf[off] === 0xbe && buf[off + 1] === 0xef) {
      flagsAt = off + 8;
      llAt = off + 17;
    } else {
      if (len < 8) {
        this.skipped.malformed++;
        return;
      }
      const protover = buf[off + 3]!;
      if (protover < 1 || protover > 3) {
        this.skipped.unsupported++;
        this.#warnOnce(`nordic${protover}`, `Nordic BLE sniffer protocol version ${protover} is not supported`);
        return;
      }
      // Protocol 3 tells advertising (0x02) from data (0x06) packets by packet id; older ones by access address.
      if (protover === 3 && buf[off + 6] !== 0x02) return this.#notCounted();
      flagsAt = off + 8;
      llAt = off + 7 + buf[off + 7]!;
    }
    if (llAt > end || flagsAt + 3 > end) {
      this.skipped.malformed++;
      return;
    }
    const crc = (buf[flagsAt]! & 1) !== 0 ? CrcState.VALID : CrcState.INVALID;
    this.#ble(timeMs, buf, llAt, end, crc, -buf[flagsAt + 2]!);
  }

  #hci(timeMs: number, buf: Buffer, p: number, end: number): void {
    const n = dissectHciEvent(buf, p, end, timeMs, this.#sink);
    if (n > 0) this.detections += n;
    else if (n === 0) this.skipped.notCounted++;
    else this.skipped.malformed++;
  }

  #notCounted(): void {
    this.skipped.notCounted++;
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#warnings.push(message);
  }
}
