#!/usr/bin/env node
// Runs the bundle that `npm run build` makes (dist/passant-aggregator.mjs: plain JavaScript, no TypeScript compiled
// at start), or, when there is none or a source file is newer than it (a checkout being worked on), the TypeScript
// sources directly through tsx. With PASSANT_REQUIRE_BUILD=1 (the Docker image sets it) a missing or stale bundle
// is an error instead: production runs built JavaScript only.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/passant-aggregator.mjs', import.meta.url);
const sourceDirs = [new URL('../src/', import.meta.url), new URL('../../shared/src/', import.meta.url)].map((u) => fileURLToPath(u));

/** Newest modification time (ms) of the files below `dir`; 0 when it does not exist (an installed package). */
function newest(dir) {
  let latest = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = `${dir}/${e.name}`;
    latest = Math.max(latest, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return latest;
}

/** null when the bundle is current, else why not. */
function bundleProblem() {
  let built;
  try {
    built = fs.statSync(bundle).mtimeMs;
  } catch {
    return `${fileURLToPath(bundle)} does not exist`;
  }
  const stale = sourceDirs.find((dir) => newest(dir) > built);
  return stale === undefined ? null : `${stale} has files newer than ${fileURLToPath(bundle)}`;
}

let main;
const problem = bundleProblem();
if (problem === null) {
  ({ main } = await import(bundle.href));
} else if (process.env.PASSANT_REQUIRE_BUILD === '1') {
  process.stderr.write(`passant-aggregator: PASSANT_REQUIRE_BUILD=1 but ${problem}: run npm run build\n`);
  process.exit(1);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli.ts'));
}
process.exitCode = await main(process.argv.slice(2));
