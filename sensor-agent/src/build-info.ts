/**
 * The sensor's build, announced in its status message so that an officer can check which code a deployed sensor
 * runs: `{ version, commit, sha256 }`.
 *
 * - version: the sensor package's version (sensor-agent/package.json).
 * - commit: the git commit the code was built from (`git rev-parse HEAD` of the checkout at `npm run build`; for the
 *   TypeScript path, of the checkout it runs from); null when unknown (no git, not a checkout). It says where the
 *   code came from; whether the code is exactly that commit's is what sha256 tells.
 * - sha256: the SHA-256 of the code it runs.
 *   - The bundle (what `npm run build` makes and bin/passant-sensor.js runs): every `.mjs` file under
 *     sensor-agent/dist (the entry passant-sensor.mjs and its chunks), in the byte order of their paths relative to
 *     dist, concatenated. The build is reproducible, so an officer gets the same hash from the same commit:
 *     `npm ci && npm run build`, then in sensor-agent/dist: `find . -name '*.mjs' | LC_ALL=C sort | xargs cat | sha256sum`.
 *   - The TypeScript sources through tsx (a checkout being worked on, or no build): every `.ts` file under
 *     sensor-agent/src and shared/src, in the byte order of their paths relative to the repository, concatenated.
 *     That is the code tsx compiles; its npm dependencies are not included (in neither case: they are pinned
 *     by package-lock.json).
 * The hash is what an honest sensor reports about itself; a modified sensor can report anything, so it is a check
 * of deployments, not a proof against a hostile one.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set by build.mjs (esbuild `define`) in the bundle; undefined when the TypeScript runs through tsx. */
declare const __PASSANT_SENSOR_BUILD__: { version: string; commit: string | null } | undefined;

export interface SensorBuild {
  version: string;
  commit: string | null;
  sha256: string;
}

/** Paths (relative to `root`, '/'-separated) of the files below `dir` whose names end in `suffix`, in byte order. */
function filesBelow(root: string, dir: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(suffix)) out.push(path.relative(root, p).split(path.sep).join('/'));
    }
  };
  walk(dir);
  return out.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
}

function sha256Of(root: string, files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(fs.readFileSync(path.join(root, f)));
  return h.digest('hex');
}

/** SHA-256 of a bundle folder (dist): its `.mjs` files in path order, concatenated. */
export function bundleSha256(distDir: string): string {
  return sha256Of(distDir, filesBelow(distDir, distDir, '.mjs'));
}

/** SHA-256 of the TypeScript sources of the sensor (sensor-agent/src and shared/src of `repoRoot`). */
export function sourcesSha256(repoRoot: string): string {
  const files = [...filesBelow(repoRoot, path.join(repoRoot, 'sensor-agent/src'), '.ts'), ...filesBelow(repoRoot, path.join(repoRoot, 'shared/src'), '.ts')];
  return sha256Of(repoRoot, files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
}

/** `git rev-parse HEAD` in `dir`, or null. */
export function gitCommit(dir: string): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    return /^[0-9a-f]{7,40}$/.test(out) ? out : null;
  } catch {
    return null;
  }
}

let cached: SensorBuild | undefined;

/** This process's build (computed once: reads the code files and hashes them, a few ms). */
export function sensorBuild(): SensorBuild {
  if (cached !== undefined) return cached;
  const here = path.dirname(fileURLToPath(import.meta.url));
  if (typeof __PASSANT_SENSOR_BUILD__ !== 'undefined') {
    // In the bundle: this module is in dist/ or one of its subfolders (chunks/).
    let dist = here;
    while (path.basename(dist) !== 'dist' && path.dirname(dist) !== dist) dist = path.dirname(dist);
    cached = { version: __PASSANT_SENSOR_BUILD__.version, commit: __PASSANT_SENSOR_BUILD__.commit, sha256: bundleSha256(dist) };
  } else {
    const repoRoot = path.resolve(here, '../..');
    cached = { version: packageVersion(path.resolve(here, '../package.json')), commit: gitCommit(repoRoot), sha256: sourcesSha256(repoRoot) };
  }
  return cached;
}

function packageVersion(file: string): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The sensor agent's version (its package version), announced in the status message. */
export const AGENT_VERSION: string =
  typeof __PASSANT_SENSOR_BUILD__ !== 'undefined'
    ? __PASSANT_SENSOR_BUILD__.version
    : packageVersion(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../package.json'));
