#!/usr/bin/env node
// Runs the bundle that `npm run build` makes (dist/passant-sensor.mjs: plain JavaScript, a faster start and about
// 35 MB less memory than compiling TypeScript at start), or, when there is none or a source file is newer than it
// (a checkout being worked on), the TypeScript sources directly through tsx.
//
// The sources looked at are those the bundle was built from (dist/sources.json, written by build.mjs: some 40
// files, stat'ed in about a millisecond), so that a change to a file of shared/ that only the aggregator uses
// does not send the sensor to the slow path. Without that list (an older build), every file below
// sensor-agent/src and shared/src. A listed file that is gone does not count (an installed package may have
// none); a new file only matters once a listed file imports it, and then that file is newer.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/passant-sensor.mjs', import.meta.url);
const sourceList = new URL('../dist/sources.json', import.meta.url);
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

/** Modification time (ms) of a file; 0 when it does not exist. */
function mtime(file) {
  return fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

function bundleIsCurrent() {
  try {
    const built = fs.statSync(bundle).mtimeMs;
    let listed;
    try {
      listed = JSON.parse(fs.readFileSync(sourceList, 'utf8'));
    } catch {
      return sourceDirs.every((dir) => newest(dir) <= built);
    }
    const base = new URL('../', import.meta.url);
    return listed.every((rel) => mtime(fileURLToPath(new URL(rel, base))) <= built);
  } catch {
    return false;
  }
}

let main;
if (bundleIsCurrent()) {
  ({ main } = await import(bundle.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli.ts'));
}
process.exitCode = await main(process.argv.slice(2));
