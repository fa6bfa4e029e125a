/**
 * Noise for open data: integer noise from the two-sided geometric distribution (the discrete Laplace
 * mechanism), P(n = z) = (1 - a) / (1 + a) * a^|z| with a = e^-epsilon, for counts of sensitivity 1 (one device
 * changes a zone-minute by at most 1).
 *
 * Deterministic: the noise of a cell is drawn from HMAC-SHA256(secret key, cell id), so the same cell gets the
 * same noise on every request and repeating a query cannot average it away. HMAC output is indistinguishable
 * from random to anyone without the key, so the draws are as good as a cryptographic random source.
 *
 * Where it is applied (release-layer.ts): to each released base cell (zone, minute, radio), once, when the cell
 * is frozen; every coarser value (hour, day, site, any range) is the sum of its cells' noisy values. So outputs
 * stay consistent (an hour is the sum of its minutes) and an hour or a site is post-processing of the noisy
 * cells: no combination of outputs gives two independent noisy views of the same cell. Suppression (< k) is
 * decided on the exact value before noise.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';

export const NOISE_MECHANISM = 'geometric';

/** The secret and the privacy parameter. */
export interface NoiseSettings {
  epsilon: number;
  key: Buffer;
}

/** Draws from 53 bits of `bytes` at `offset` a uniform number in (0, 1]. */
function uniform(bytes: Buffer, offset: number): number {
  const high = bytes.readUInt32BE(offset) >>> 11; // 21 bits
  const low = bytes.readUInt32BE(offset + 4); // 32 bits
  return (high * 2 ** 32 + low + 1) / 2 ** 53;
}

/** A geometric draw on {0, 1, 2, ...} with P(G >= g) = a^g, from a uniform u in (0, 1]. */
function geometric(u: number, logA: number): number {
  return Math.floor(Math.log(u) / logA);
}

/** Two-sided geometric noise from the 32 bytes of an HMAC: the difference of two geometric draws. */
export function twoSidedGeometric(bytes: Buffer, epsilon: number): number {
  if (!(epsilon > 0)) throw new RangeError(`epsilon must be positive, got ${epsilon}`);
  const logA = -epsilon;
  return geometric(uniform(bytes, 0), logA) - geometric(uniform(bytes, 8), logA);
}

/**
 * The noise of the cell named by `id` (its parts, e.g. ['cell', zoneId, t, radio, step]): the same for the same
 * id, key and epsilon, always.
 */
export function noiseFor(settings: NoiseSettings, id: readonly (string | number)[]): number {
  const mac = createHmac('sha256', settings.key).update(JSON.stringify(id)).digest();
  return twoSidedGeometric(mac, settings.epsilon);
}

/** Variance of the two-sided geometric distribution: 2a / (1 - a)^2. */
export function noiseVariance(epsilon: number): number {
  const a = Math.exp(-epsilon);
  return (2 * a) / (1 - a) ** 2;
}

/**
 * The noise settings from the configuration, or null when noise is off. The secret comes from `noise.key` (set
 * it through PASSANT_NOISE_KEY) or `noise.keyFile`; it is never logged.
 */
export function noiseSettingsOf(config: { enabled: boolean; epsilon: number; key?: string | undefined; keyFile?: string | undefined }): NoiseSettings | null {
  if (!config.enabled) return null;
  let secret = config.key;
  if (secret === undefined && config.keyFile !== undefined) {
    try {
      secret = fs.readFileSync(config.keyFile, 'utf8').trim();
    } catch (err) {
      throw new Error(`noise.keyFile: cannot read ${config.keyFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
  }
  if (secret === undefined || secret.length < 32) {
    throw new Error('noise is enabled but its secret is missing or shorter than 32 characters (PASSANT_NOISE_KEY or noise.keyFile)');
  }
  return { epsilon: config.epsilon, key: Buffer.from(secret, 'utf8') };
}
