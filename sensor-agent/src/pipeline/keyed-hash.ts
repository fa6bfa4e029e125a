/**
 * The keyed hash that turns an address into a per-window pseudonym: SipHash-2-4 (Aumasson & Bernstein), a keyed
 * PRF with a 128-bit key and a 64-bit output, written with 32-bit halves so that it needs neither BigInt nor an
 * allocation per call.
 *
 * Why SipHash and not HMAC-SHA256: both are keyed PRFs with a 128-bit-or-more key, which is all the design asks
 * (docs/architecture.md, "Where an address may live"); for a 6-byte input node:crypto's HMAC costs an object and a native call per address and runs at
 * roughly 0.5 M/s on the reference machine, while this SipHash-2-4 runs an order of magnitude faster. The figures
 * are printed by `npm run bench -w @passant/sensor-agent` (section "keyed hash").
 *
 * The key lives in one `Uint32Array(4)` that the owner zeroes with `destroy()` when the window closes.
 */
import { randomFillSync } from 'node:crypto';

/** SipHash's initialisation constants ("somepseudorandomlygeneratedbytes"), as [hi, lo] 32-bit halves. */
const C0_HI = 0x736f6d65, C0_LO = 0x70736575;
const C1_HI = 0x646f7261, C1_LO = 0x6e646f6d;
const C2_HI = 0x6c796765, C2_LO = 0x6e657261;
const C3_HI = 0x74656462, C3_LO = 0x79746573;

/** Key length in bytes (128 bits). */
export const KEY_BYTES = 16;

/**
 * Fresh key material is drawn from the system CSPRNG in batches (one call per 256 keys instead of one per
 * window: a capture file closes thousands of windows a second). Each key's words are copied out once and
 * zeroed in the batch at once, so no key is ever handed out twice or left behind.
 */
const keyBatch = new Uint32Array(1024);
let keyBatchPos = keyBatch.length;

function drawKey(dst: Uint32Array): void {
  if (keyBatchPos + 4 > keyBatch.length) {
    randomFillSync(keyBatch);
    keyBatchPos = 0;
  }
  for (let i = 0; i < 4; i++) {
    dst[i] = keyBatch[keyBatchPos + i]!;
    keyBatch[keyBatchPos + i] = 0;
  }
  keyBatchPos += 4;
}

/**
 * A SipHash-2-4 key. `hash6(buf, off)` hashes the 6 bytes at `off` and returns the low 32 bits of the 64-bit
 * result; the high 32 bits are then in `hi`. Both halves together are the pseudonym.
 */
export class KeyedHash {
  /** Key words k0 = (key[1], key[0]), k1 = (key[3], key[2]) as (hi, lo) 32-bit halves, little endian. */
  #key: Uint32Array;
  /** High 32 bits of the last result. */
  hi = 0;

  /** A fresh random key from the system CSPRNG, or (tests only) the given 16 key bytes. */
  constructor(keyBytes?: Uint8Array) {
    this.#key = new Uint32Array(4);
    if (keyBytes === undefined) {
      drawKey(this.#key);
    } else {
      if (keyBytes.length !== KEY_BYTES) throw new RangeError(`a SipHash key has ${KEY_BYTES} bytes, got ${keyBytes.length}`);
      for (let i = 0; i < 4; i++) this.#key[i] = readLe32(keyBytes, 4 * i);
    }
  }

  /** Overwrites the key with zeros; the object hashes nothing useful afterwards. */
  destroy(): void {
    this.#key.fill(0);
    this.hi = 0;
  }

  /** True once `destroy()` has zeroed the key (for tests). */
  get destroyed(): boolean {
    const k = this.#key;
    return (k[0]! | k[1]! | k[2]! | k[3]!) === 0;
  }

  /** SipHash-2-4 of the 6 bytes buf[off..off+6); returns the low half, sets `hi`. */
  hash6(buf: Uint8Array, off: number): number {
    const k = this.#key;
    const m0 = (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
    // The last (only) block: 6 message bytes, then the length (6) in the top byte.
    const m1 = (buf[off + 4]! | (buf[off + 5]! << 8) | (6 << 24)) >>> 0;
    return this.#finish(k[0]!, k[1]!, k[2]!, k[3]!, m0, m1, null, 0, 0);
  }

  /** SipHash-2-4 of any byte string (reference form, used for the test vectors); returns the low half, sets `hi`. */
  hash(data: Uint8Array, off = 0, len = data.length - off): number {
    const k = this.#key;
    const end = off + len;
    const fullEnd = off + (len & ~7);
    // Last block: remaining bytes, then (len mod 256) in the top byte.
    let b0 = 0, b1 = ((len & 0xff) << 24) >>> 0;
    const rem = end - fullEnd;
    for (let i = 0; i < rem; i++) {
      const byte = data[fullEnd + i]!;
      if (i < 4) b0 = (b0 | (byte << (8 * i))) >>> 0;
      else b1 = (b1 | (byte << (8 * (i - 4)))) >>> 0;
    }
    return this.#finish(k[0]!, k[1]!, k[2]!, k[3]!, b0, b1, data, off, fullEnd);
  }

  /**
   * Runs SipHash-2-4: compresses the full 8-byte blocks data[from..to) (none when data is null), then the last
   * block (lastLo, lastHi), then finalises.
   */
  #finish(k0lo: number, k0hi: number, k1lo: number, k1hi: number, lastLo: number, lastHi: number,
    data: Uint8Array | null, from: number, to: number): number {
    let v0h = (k0hi ^ C0_HI) >>> 0, v0l = (k0lo ^ C0_LO) >>> 0;
    let v1h = (k1hi ^ C1_HI) >>> 0, v1l = (k1lo ^ C1_LO) >>> 0;
    let v2h = (k0hi ^ C2_HI) >>> 0, v2l = (k0lo ^ C2_LO) >>> 0;
    let v3h = (k1hi ^ C3_HI) >>> 0, v3l = (k1lo ^ C3_LO) >>> 0;
    let t = 0, u = 0;
    let blocks = data === null ? 0 : (to - from) >>> 3;
    let p = from;
    // Rounds: 2 per block (compression), then 4 (finalisation). `phase` 0 = blocks, 1 = last block, 2 = final.
    for (let phase = blocks > 0 ? 0 : 1; phase <= 2; ) {
      let mLo: number, mHi: number;
      if (phase === 0) {
        mLo = readLe32(data!, p);
        mHi = readLe32(data!, p + 4);
        p += 8;
      } else if (phase === 1) {
        mLo = lastLo;
        mHi = lastHi;
      } else {
        mLo = 0;
        mHi = 0;
        v2l = (v2l ^ 0xff) >>> 0;
      }
      v3l = (v3l ^ mLo) >>> 0;
      v3h = (v3h ^ mHi) >>> 0;
      const rounds = phase === 2 ? 4 : 2;
      for (let r = 0; r < rounds; r++) {
        // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
        t = (v0l + v1l) >>> 0; v0h = (v0h + v1h + (t < v0l ? 1 : 0)) >>> 0; v0l = t;
        t = ((v1h << 13) | (v1l >>> 19)) >>> 0; u = ((v1l << 13) | (v1h >>> 19)) >>> 0;
        v1h = (t ^ v0h) >>> 0; v1l = (u ^ v0l) >>> 0;
        t = v0h; v0h = v0l; v0l = t;
        // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
        t = (v2l + v3l) >>> 0; v2h = (v2h + v3h + (t < v2l ? 1 : 0)) >>> 0; v2l = t;
        t = ((v3h << 16) | (v3l >>> 16)) >>> 0; u = ((v3l << 16) | (v3h >>> 16)) >>> 0;
        v3h = (t ^ v2h) >>> 0; v3l = (u ^ v2l) >>> 0;
        // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
        t = (v0l + v3l) >>> 0; v0h = (v0h + v3h + (t < v0l ? 1 : 0)) >>> 0; v0l = t;
        t = ((v3h << 21) | (v3l >>> 11)) >>> 0; u = ((v3l << 21) | (v3h >>> 11)) >>> 0;
        v3h = (t ^ v0h) >>> 0; v3l = (u ^ v0l) >>> 0;
        // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
        t = (v2l + v1l) >>> 0; v2h = (v2h + v1h + (t < v2l ? 1 : 0)) >>> 0; v2l = t;
        t = ((v1h << 17) | (v1l >>> 15)) >>> 0; u = ((v1l << 17) | (v1h >>> 15)) >>> 0;
        v1h = (t ^ v2h) >>> 0; v1l = (u ^ v2l) >>> 0;
        t = v2h; v2h = v2l; v2l = t;
      }
      if (phase !== 2) {
        v0l = (v0l ^ mLo) >>> 0;
        v0h = (v0h ^ mHi) >>> 0;
      }
      if (phase === 0 && --blocks > 0) continue;
      phase++;
    }
    this.hi = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
    return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  }
}

function readLe32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
