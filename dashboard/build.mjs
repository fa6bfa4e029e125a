// Builds the dashboard: bundles src/main.ts (and the CSS it imports) into dist/app.js and dist/app.css with
// esbuild, and copies index.html and public/ into dist/. Prints one line; exits 1 with a clear message on failure.
// Run by `npm run build -w @passant/dashboard` (and so by the root `prestart` and `pretest`).
// No source map by default: the aggregator serves dist/ to anyone, and a map would hand out the full source.
// `node build.mjs --dev` (or PASSANT_DASHBOARD_SOURCEMAP=1) adds dist/app.js.map for debugging on a developer's
// machine. `--outdir DIR` builds somewhere else than dist/ (tests).
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const outdirAt = argv.indexOf('--outdir');
const dist = outdirAt >= 0 && argv[outdirAt + 1] ? path.resolve(argv[outdirAt + 1]) : path.join(here, 'dist');
const sourceMaps = argv.includes('--dev') || process.env.PASSANT_DASHBOARD_SOURCEMAP === '1';
const startedMs = performance.now();

/** Packages that must never reach the browser bundle (zod comes with a runtime import of `@passant/shared`). */
const FORBIDDEN = [/[\\/]node_modules[\\/]zod[\\/]/, /[\\/]shared[\\/]src[\\/]/];

function fail(message) {
  process.stderr.write(`dashboard build failed: ${message}\n`);
  process.exit(1);
}

async function build() {
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  let result;
  try {
    result = await esbuild.build({
      absWorkingDir: here,
      entryPoints: { app: 'src/main.ts' },
      outdir: dist,
      bundle: true,
      format: 'esm',
      // One file: the tab pages' dynamic imports (src/lazy-page.ts) are inlined, their pages built when first opened.
      // Split into chunks they made the first figures slower, not faster (bench:dashboard, 2 x 5 runs each: medians
      // 1.41 and 1.33 s split against 1.32 and 1.28 s in one file): each extra request costs more than the parse it saves.
      splitting: false,
      platform: 'browser',
      target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
      minify: true,
      sourcemap: sourceMaps ? 'linked' : false,
      legalComments: 'none',
      metafile: true,
      logLevel: 'silent',
    });
  } catch (err) {
    const errors = err?.errors ?? [];
    if (errors.length === 0) fail(err instanceof Error ? err.message : String(err));
    const lines = await esbuild.formatMessages(errors, { kind: 'error', color: false });
    fail(`${errors.length} error(s)\n${lines.join('').trimEnd()}`);
  }
  const bad = Object.keys(result.metafile.inputs).filter((p) => FORBIDDEN.some((re) => re.test(path.resolve(here, p))));
  if (bad.length > 0) {
    const shown = bad.slice(0, 3).map((p) => path.relative(here, path.resolve(here, p)));
    fail(
      `the bundle pulls in ${bad.length} file(s) of zod or @passant/shared (${shown.join(', ')}${bad.length > 3 ? ', …' : ''}); ` +
        `import from '@passant/shared' with \`import type\` only (its index imports zod)`,
    );
  }
  await cp(path.join(here, 'index.html'), path.join(dist, 'index.html'));
  const assets = await readdir(path.join(here, 'public')).catch(() => []);
  for (const name of assets) await cp(path.join(here, 'public', name), path.join(dist, name), { recursive: true });
  // The large files compressed once here, at their best, so the aggregator sends them without compressing them on
  // each request (aggregator/src/http/precompressed.ts serves NAME.br or NAME.gz to a client that accepts it).
  const packed = [];
  for (const name of ['app.js', 'app.css']) {
    const body = await readFile(path.join(dist, name));
    const br = brotliCompressSync(body, {
      params: { [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length },
    });
    await writeFile(path.join(dist, `${name}.br`), br);
    await writeFile(path.join(dist, `${name}.gz`), gzipSync(body, { level: 9 }));
    if (name === 'app.js') packed.push(`${(br.length / 1024).toFixed(1)} kB brotli`);
  }
  const size = async (name) => `${name} ${((await stat(path.join(dist, name))).size / 1024).toFixed(1)} kB`;
  const ms = Math.round(performance.now() - startedMs);
  const where = path.relative(process.cwd(), dist) || '.';
  process.stdout.write(`dashboard: built ${where}/ (${await size('app.js')} (${packed.join('')}), ${await size('app.css')}${sourceMaps ? ', with source maps' : ''}) in ${ms} ms\n`);
}

build().catch((err) => fail(err instanceof Error ? err.message : String(err)));
