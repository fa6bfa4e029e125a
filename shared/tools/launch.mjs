// What both programs' bins do (sensor-agent/bin/passant-sensor.js, aggregator/bin/passant-aggregator.js): run the
// bundle that `npm run build` made (dist/NAME.mjs: plain JavaScript, no TypeScript compiled at start), or, when
// there is none or it is older than a source it was built from (a checkout being worked on), the TypeScript
// sources through tsx. With PASSANT_REQUIRE_BUILD=1 (the Docker image sets it) a missing or stale bundle is an
// error instead: production runs built JavaScript only.
//
// The sources looked at are those the bundle was built from: dist/sources.json, written by the build
// (build-bundle.mjs, from esbuild's metafile; paths relative to the package folder), some 40 files for the sensor,
// stat'ed in about a millisecond. So a change to a file of shared/ that only the other program uses does not send
// this one to the slow path. A listed file that is gone does not count (an installed package may have none); a new
// file only matters once a listed file imports it, and then that file is newer. Without that list (a build from
// before it), every file below the folders the bin names (its src/ and shared/src/).
//
// Plain JavaScript (no tsx needed to load it), exported as @passant/shared/launch.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
    latest = Math.max(latest, e.isDirectory() ? newest(p) : (fs.statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0));
  }
  return latest;
}

/** Modification time (ms) of a file; 0 when it does not exist. */
function mtime(file) {
  return fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/** The list in `sourceList` (paths relative to the package folder), or null when there is none or it is not one. */
function readSourceList(sourceList) {
  try {
    const listed = JSON.parse(fs.readFileSync(sourceList, 'utf8'));
    return Array.isArray(listed) && listed.every((f) => typeof f === 'string') ? listed : null;
  } catch {
    return null;
  }
}

/**
 * Why the bundle cannot run, or null when it is current.
 * @param {{ packageDir: URL, bundle: string, sourceDirs: string[] }} where  the package folder (a URL ending in
 *   '/'); the bundle and the folders to look at without a source list, relative to it. The list is
 *   sources.json beside the bundle.
 * @returns {string | null}
 */
export function bundleProblem({ packageDir, bundle, sourceDirs }) {
  const bundleUrl = new URL(bundle, packageDir);
  const bundlePath = fileURLToPath(bundleUrl);
  const built = fs.statSync(bundleUrl, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return `${bundlePath} does not exist`;
  const base = fileURLToPath(packageDir);
  const listed = readSourceList(new URL('sources.json', bundleUrl));
  if (listed === null) {
    const stale = sourceDirs.map((d) => path.join(base, d)).find((dir) => newest(dir) > built);
    return stale === undefined ? null : `${stale} has files newer than ${bundlePath}`;
  }
  const newer = listed.map((rel) => path.join(base, rel)).find((file) => mtime(file) > built);
  return newer === undefined ? null : `${newer} is newer than ${bundlePath}`;
}

/**
 * Runs the program: its bundle when current (see above), else `loadSources()` (the bin's own import of its
 * TypeScript entry through tsx, so that tsx is resolved from the program's package); sets process.exitCode to
 * what its `main(argv)` returns.
 * @param {{
 *   name: string,
 *   packageDir: URL,
 *   loadSources: () => Promise<{ main: (argv: string[]) => Promise<number> }>,
 *   bundle?: string,
 *   sourceDirs?: string[],
 *   argv?: string[],
 *   env?: NodeJS.ProcessEnv,
 * }} program  `name` is the command's (in messages); `packageDir` its package folder (a URL ending in '/'); the
 *   bundle is dist/NAME.mjs in it unless given, and without a source list the files below its src/ and
 *   ../shared/src/ are looked at unless `sourceDirs` (relative to the package folder) says otherwise.
 */
export async function launch({
  name,
  packageDir,
  loadSources,
  bundle = `dist/${name}.mjs`,
  sourceDirs = ['src/', '../shared/src/'],
  argv = process.argv.slice(2),
  env = process.env,
}) {
  const problem = bundleProblem({ packageDir, bundle, sourceDirs });
  let main;
  if (problem === null) {
    ({ main } = await import(new URL(bundle, packageDir).href));
  } else if (env.PASSANT_REQUIRE_BUILD === '1') {
    process.stderr.write(`${name}: PASSANT_REQUIRE_BUILD=1 but ${problem}: run npm run build\n`);
    process.exitCode = 1;
    return;
  } else {
    ({ main } = await loadSources());
  }
  process.exitCode = await main(argv);
}
