/**
 * One radio of one simulated device (simulator.ts): its address recipe (no address is stored: the 6 bytes are a
 * function of the device's seed and the rotation epoch) and its frame schedule (Wi-Fi probe bursts, BLE
 * advertisements, or a static device's fixed period).
 */
import type { Radio } from '../../pipeline/types.ts';
import { hash4, Rng } from './random.ts';

/** Wi-Fi: a burst of 1-3 probe requests every 30-90 s. BLE: one advertisement every 15-45 s (scaled down from reality). */
export const WIFI_BURST_GAP_MS = [30_000, 90_000] as const;
const WIFI_FRAME_GAP_MS = 20;
export const BLE_GAP_MS = [15_000, 45_000] as const;

/** Address kinds: how the 6 bytes are shaped. */
const ADDR_WIFI_RANDOM = 0;
const ADDR_WIFI_UNIVERSAL = 1;
const ADDR_BLE_RANDOM = 2;
const ADDR_BLE_PUBLIC = 3;
type AddressKind = 0 | 1 | 2 | 3;

/** A few real-looking OUIs for universal addresses (the first three octets). */
const OUIS = [0x3c2eff, 0xf0d1a9, 0x001a11, 0x8c8590, 0xa4c361, 0x28cfe9];

/** One radio of one device: its frame schedule and its address recipe (no address is stored). */
export interface RadioState {
  radio: Radio;
  kind: AddressKind;
  randomized: boolean;
  /** Address seed; the address is a function of (seed, epoch). */
  addrSeed: number;
  /** Rotation: epoch = floor((t + phase) / period); period Infinity = never rotates. */
  rotationMs: number;
  rotationPhaseMs: number;
  rssiBase: number;
  rng: Rng;
  nextMs: number;
  /** Wi-Fi: frames left in the current burst. */
  burstLeft: number;
  /** Static devices: fixed time between frames (0 = random gaps, visitors); frame k is at phase + k * period. */
  periodMs: number;
  periodPhaseMs: number;
  periodIndex: number;
}

/** A frame drawn but not yet emitted (frames are sorted per chunk before they go out). */
export interface PendingFrame {
  t: number;
  r: RadioState;
  rssi: number;
}

/** What a visitor's radio is made of; every number was drawn by the visitor, whatever the outcome. */
export interface VisitorRadioSpec {
  radio: Radio;
  randomized: boolean;
  /** The visitor's seed and this radio's salt: the address seed is hash(seed, salt), its generator's hash(seed, salt + 1). */
  visitorSeed: number;
  salt: number;
  /** Rotation period drawn for this radio (used only when randomized) and its phase as a share of it. */
  rotationMs: number;
  phase: number;
  rssiBase: number;
  firstMs: number;
}

/** A visitor's radio: random gaps, and an address that rotates when randomized. */
export function visitorRadio(s: VisitorRadioSpec): RadioState {
  const wifi = s.radio === 'wifi';
  return {
    radio: s.radio,
    kind: wifi ? (s.randomized ? ADDR_WIFI_RANDOM : ADDR_WIFI_UNIVERSAL) : s.randomized ? ADDR_BLE_RANDOM : ADDR_BLE_PUBLIC,
    randomized: s.randomized,
    addrSeed: hash4(s.visitorSeed, s.salt),
    rotationMs: s.randomized ? s.rotationMs : Infinity,
    rotationPhaseMs: s.phase * s.rotationMs,
    rssiBase: s.rssiBase,
    rng: new Rng(hash4(s.visitorSeed, s.salt + 1)),
    nextMs: s.firstMs,
    burstLeft: 1,
    periodMs: 0,
    periodPhaseMs: 0,
    periodIndex: 0,
  };
}

/**
 * Static device `i` of the simulation seeded `simSeed`, its schedule picked up at `startMs`: every fourth a BLE
 * beacon with a public address, the others Wi-Fi with universal addresses.
 */
export function staticRadio(simSeed: number, i: number, startMs: number): RadioState {
  const seed = hash4(simSeed, 0x57a7, i);
  const rng = new Rng(seed);
  const ble = i % 4 === 3;
  const periodMs = ble ? 20_000 : rng.range(60_000, 120_000);
  // A fixed period from a fixed phase: the schedule is the same wherever the simulation starts.
  const phase = rng.next() * periodMs;
  const k = Math.ceil((startMs - phase) / periodMs);
  return {
    radio: ble ? 'ble' : 'wifi',
    kind: ble ? ADDR_BLE_PUBLIC : ADDR_WIFI_UNIVERSAL,
    randomized: false,
    addrSeed: seed,
    rotationMs: Infinity,
    rotationPhaseMs: 0,
    rssiBase: rng.range(-80, -60),
    rng: new Rng(0),
    nextMs: phase + k * periodMs,
    burstLeft: 1,
    periodMs,
    periodPhaseMs: phase,
    periodIndex: k,
  };
}

/** Draws the radio's frames before `until`; those at or after `from` go into `out`. */
export function scheduleFrames(r: RadioState, until: number, from: number, out: PendingFrame[]): void {
  while (r.nextMs < until) {
    const t = r.nextMs;
    if (r.periodMs > 0) {
      // Static device: RSSI noise from the frame's own time, so it does not depend on where the simulation started.
      r.rng.state = hash4(r.addrSeed, Math.floor(t));
      if (t >= from) out.push({ t, r, rssi: clampRssi(r.rssiBase + r.rng.range(-3, 3)) });
      // From the index, not by adding: the times are then bit-identical wherever the simulation started.
      r.periodIndex++;
      r.nextMs = r.periodPhaseMs + r.periodIndex * r.periodMs;
      continue;
    }
    const rssi = clampRssi(r.rssiBase + r.rng.range(-6, 6));
    if (t >= from) out.push({ t, r, rssi });
    if (r.radio === 'wifi') {
      if (r.burstLeft > 1) {
        r.burstLeft--;
        r.nextMs = t + WIFI_FRAME_GAP_MS;
      } else {
        r.burstLeft = 1 + Math.floor(r.rng.next() * 3);
        r.nextMs = t + r.rng.range(WIFI_BURST_GAP_MS[0], WIFI_BURST_GAP_MS[1]);
      }
    } else {
      r.nextMs = t + r.rng.range(BLE_GAP_MS[0], BLE_GAP_MS[1]);
    }
  }
}

/** Writes the 6 address bytes of `r` at time `t` into `out` (transmission order, first octet first). */
export function addressInto(out: Uint8Array, r: RadioState, t: number): void {
  const epoch = Number.isFinite(r.rotationMs) ? Math.floor((t + r.rotationPhaseMs) / r.rotationMs) : 0;
  const h1 = hash4(r.addrSeed, epoch, 1);
  const h2 = hash4(r.addrSeed, epoch, 2);
  switch (r.kind) {
    case ADDR_WIFI_RANDOM:
      // Locally administered, unicast: bit 0x02 set, bit 0x01 clear in the first octet.
      out[0] = ((h1 >>> 24) & 0xfc) | 0x02;
      break;
    case ADDR_BLE_RANDOM:
      // Resolvable private address: the two most significant bits of the first octet are 0b01.
      out[0] = ((h1 >>> 24) & 0x3f) | 0x40;
      break;
    default: {
      const oui = OUIS[r.addrSeed % OUIS.length]!;
      out[0] = (oui >>> 16) & 0xff;
      out[1] = (oui >>> 8) & 0xff;
      out[2] = oui & 0xff;
      out[3] = (h2 >>> 16) & 0xff;
      out[4] = (h2 >>> 8) & 0xff;
      out[5] = h2 & 0xff;
      return;
    }
  }
  out[1] = (h1 >>> 16) & 0xff;
  out[2] = (h1 >>> 8) & 0xff;
  out[3] = h1 & 0xff;
  out[4] = (h2 >>> 8) & 0xff;
  out[5] = h2 & 0xff;
}

function clampRssi(x: number): number {
  return Math.max(-100, Math.min(-30, Math.round(x)));
}
