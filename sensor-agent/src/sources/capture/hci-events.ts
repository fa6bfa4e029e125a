/**
 * Bluetooth HCI events from a host's controller (btsnoop logs, btmon, HCI link types in pcap): LE Advertising
 * Reports (legacy, directed and extended) are counted, keyed on the advertiser address that the report carries
 * (least significant octet first, as on air); the report's address type tells whether it is random.
 * Report layouts follow BlueZ (btmon): reports one after another.
 */
import type { DetectionSink } from '../../pipeline/types.ts';

const EVT_LE_META = 0x3e;
const LE_ADVERTISING_REPORT = 0x02;
const LE_DIRECTED_ADVERTISING_REPORT = 0x0b;
const LE_EXTENDED_ADVERTISING_REPORT = 0x0d;
/** Extended report event type: data status bits 5-6; 0b01 = incomplete, more reports of this PDU follow. */
const EXT_DATA_STATUS_MASK = 0x60;
const EXT_DATA_STATUS_MORE = 0x20;
const ADDR_TYPE_ANONYMOUS = 0xff;
const RSSI_UNAVAILABLE = 127;

/**
 * Dissects the HCI event at buf[p, end) (event code first, no H4 type byte) and reports every advertiser in it.
 * Returns the number of detections, or -1 when the event is malformed.
 */
export function dissectHciEvent(buf: Uint8Array, p: number, end: number, timeMs: number, sink: DetectionSink): number {
  if (end - p < 3 || buf[p] !== EVT_LE_META) return 0;
  const paramLen = buf[p + 1]!;
  const stop = Math.min(end, p + 2 + paramLen);
  const sub = buf[p + 2]!;
  let q = p + 3;
  if (q >= stop) return -1;
  const num = buf[q++]!;
  let found = 0;
  for (let i = 0; i < num; i++) {
    if (sub === LE_ADVERTISING_REPORT) {
      // event type, address type, address (6), data length, data, rssi
      if (q + 9 > stop) return -1;
      const addrType = buf[q + 1]!;
      const dataLen = buf[q + 8]!;
      const rssiAt = q + 9 + dataLen;
      if (rssiAt + 1 > stop) return -1;
      sink.detect(timeMs, 'ble', buf, q + 2, (addrType & 1) === 1, rssiOf(buf[rssiAt]!));
      found++;
      q = rssiAt + 1;
    } else if (sub === LE_DIRECTED_ADVERTISING_REPORT) {
      // event type, address type, address (6), direct address type, direct address (6), rssi
      if (q + 16 > stop) return -1;
      sink.detect(timeMs, 'ble', buf, q + 2, (buf[q + 1]! & 1) === 1, rssiOf(buf[q + 15]!));
      found++;
      q += 16;
    } else if (sub === LE_EXTENDED_ADVERTISING_REPORT) {
      // event type (2), address type, address (6), primary phy, secondary phy, sid, tx power, rssi,
      // periodic interval (2), direct address type, direct address (6), data length, data
      if (q + 24 > stop) return -1;
      const eventType = buf[q]! | (buf[q + 1]! << 8);
      const addrType = buf[q + 2]!;
      const dataLen = buf[q + 23]!;
      if (q + 24 + dataLen > stop) return -1;
      if (addrType !== ADDR_TYPE_ANONYMOUS && (eventType & EXT_DATA_STATUS_MASK) !== EXT_DATA_STATUS_MORE) {
        sink.detect(timeMs, 'ble', buf, q + 3, (addrType & 1) === 1, rssiOf(buf[q + 13]!));
        found++;
      }
      q += 24 + dataLen;
    } else {
      return 0;
    }
  }
  return found;
}

function rssiOf(byte: number): number {
  const v = byte > 127 ? byte - 256 : byte;
  return v === RSSI_UNAVAILABLE ? NaN : v;
}
