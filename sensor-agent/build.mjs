// Bundles the sensor's command line (src/cli.ts with @passant/shared) into dist/passant-sensor.mjs: plain
// JavaScript that Node runs without compiling TypeScript at start, which on a Raspberry Pi means a faster start and
// about 35 MB less memory. Its npm dependencies stay external (better-sqlite3 is native). bin/passant-sensor.js
// runs the bundle when it is newer than every source, else the sources through tsx.
// Run by `npm run build -w @passant/sensor-agent` (and so by the root `build`, `prestart` and `pretest`).
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

async function dependencies(dir) {
  const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
  return Object.keys(pkg.dependencies ?? {});
}

async function build() {
  const outfile = path.join(here, 'dist', 'passant-sensor.mjs');
  await rm(path.join(here, 'dist'), { recursive: true, force: true });
  // Every npm dependency (of the sensor and of shared) is loaded from node_modules; only our workspace code is bundled.
  const external = [...new Set([...(await dependencies(here)), ...(await dependencies(path.join(here, '../shared')))])].filter(
    (name) => !name.startsWith('@passant/'),
  );
  let result;
  try {
    result = await esbuild.build({
      absWorkingDir: here,
      entryPoints: ['src/cli.ts'],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external,
      sourcemap: 'linked',
      legalComments: 'none',
      metafile: true,
      logLevel: 'silent',
    });
  } catch (err) {
    fail(err.errors?.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('\n') ?? err.message);
  }
  const bytes = result.metafile.outputs[path.relative(here, outfile)]?.bytes ?? 0;
  process.stdout.write(`sensor-agent: built dist/passant-sensor.mjs (${(bytes / 1024).toFixed(1)} kB) in ${Math.round(performance.now() - startedMs)} ms\n`);
}

await build();
