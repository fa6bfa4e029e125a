/**
 * The simulator's deterministic randomness (simulator.ts), without allocation: a hash of a few integers to seed
 * from (seed, segment, ...), and a small generator whose state the caller can set.
 */

/** 32-bit integer mixer (lowbias32). */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hash of up to four integers (each taken modulo 2^32, larger ones folded). */
export function hash4(a: number, b: number, c = 0, d = 0): number {
  let h = mix32((a >>> 0) ^ 0x9e3779b9);
  h = mix32(h ^ (b >>> 0) ^ (Math.floor(b / 0x100000000) * 0x85ebca6b));
  h = mix32(h ^ (c >>> 0) ^ (Math.floor(c / 0x100000000) * 0xc2b2ae35));
  h = mix32(h ^ (d >>> 0));
  return h;
}

/** mulberry32 step on a state held by the caller; returns [0, 1). */
export class Rng {
  state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}
