// Bundles the sensor's command line (src/cli.ts with @passant/shared) into dist/: plain JavaScript that Node runs
// without compiling TypeScript at start, which on a Raspberry Pi means a faster start and less memory. The entry
// is dist/passant-sensor.mjs; each command's code is in its own chunk (dist/chunks/), loaded when the command
// runs, so `count` never loads the MQTT client or SQLite. Its npm dependencies stay external (better-sqlite3 is
// native). bin/passant-sensor.js runs the bundle when it is newer than every source, else the sources through tsx.
//
// Reproducible: the same commit gives the same bytes (no time stamps, content-hashed chunk names, relative source
// map paths); the version and the commit are built in (see src/build-info.ts for the hash the status announces).
// Run by `npm run build -w @passant/sensor-agent` (and so by the root `build`, `prestart` and `pretest`).
// `node build.mjs --outdir DIR` builds into DIR instead of dist (tests).
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const startedMs = performance.now();

function fail(message) {
  process.stderr.write(`sensor build failed: ${message}\n`);
  process.exit(1);
}

async function packageJson(dir) {
  return JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
}

function gitCommit() {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return /^[0-9a-f]{7,40}$/.test(out) ? out : null;
  } catch {
    return null;
  }
}

async function build() {
  const at = process.argv.indexOf('--outdir');
  const outdir = at >= 0 && process.argv[at + 1] !== undefined ? path.resolve(process.argv[at + 1]) : path.join(here, 'dist');
  await rm(outdir, { recursive: true, force: true });
  const pkg = await packageJson(here);
  // Every npm dependency (of the sensor and of shared) is loaded from node_modules; only our workspace code is bundled.
  const external = [...new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys((await packageJson(path.join(here, '../shared'))).dependencies ?? {})])].filter(
    (name) => !name.startsWith('@passant/'),
  );
  let result;
  try {
    result = await esbuild.build({
      absWorkingDir: here,
      entryPoints: { 'passant-sensor': 'src/cli.ts' },
      outdir,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      splitting: true,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external,
      define: { __PASSANT_SENSOR_BUILD__: JSON.stringify({ version: pkg.version, commit: gitCommit() }) },
      sourcemap: 'linked',
      legalComments: 'none',
      metafile: true,
      logLevel: 'silent',
    });
  } catch (err) {
    fail(err.errors?.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('\n') ?? err.message);
  }
  const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith('.mjs'));
  const bytes = outputs.reduce((a, [, o]) => a + o.bytes, 0);
  process.stdout.write(
    `sensor-agent: built ${path.relative(process.cwd(), outdir) || '.'}/passant-sensor.mjs and ${outputs.length - 1} chunks (${(bytes / 1024).toFixed(1)} kB) in ${Math.round(performance.now() - startedMs)} ms\n`,
  );
}

await build();
