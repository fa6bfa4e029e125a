// Bundles the aggregator's command line (src/cli.ts with @passant/shared) into dist/: plain JavaScript that Node
// runs without compiling TypeScript at start (production and docker compose run this; tsx is for development).
// The entry is dist/passant-aggregator.mjs; each command's code is in its own chunk beside it, loaded when the
// command runs, so `token list` does not load express or the MQTT client. npm dependencies stay external (loaded
// from node_modules: better-sqlite3 is native, express and pino load parts of themselves at run time).
//
// Files the sources find next to themselves (the package's package.json, the dashboard's dist/, modules resolved
// from a source folder) are found from the bundle as from the sources: each `import.meta.url` in a source becomes
// that source file's URL, computed from the bundle's own location (every output is in dist/, so one relative
// path fits every chunk).
//
// Reproducible: the same sources give the same bytes (content-hashed chunk names, relative source map paths).
// Run by `npm run build -w @passant/aggregator` (and so by the root `build`, `prestart` and `pretest`).
// `node build.mjs --outdir DIR` builds into DIR instead of dist (tests); the bin runs only dist/.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const startedMs = performance.now();

function fail(message) {
  process.stderr.write(`aggregator build failed: ${message}\n`);
  process.exit(1);
}

async function packageJson(dir) {
  return JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
}

/** Replaces `import.meta.url` in our own sources by the URL of the source file itself (see above). */
function sourceLocation(outdir) {
  const ours = [path.join(here, 'src'), path.resolve(here, '../shared/src')];
  return {
    name: 'source-location',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!ours.some((dir) => args.path.startsWith(dir + path.sep))) return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const relative = path.relative(outdir, args.path).split(path.sep).join('/');
        return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, import.meta.url).href`), loader: 'ts' };
      });
    },
  };
}

async function build() {
  const at = process.argv.indexOf('--outdir');
  const outdir = at >= 0 && process.argv[at + 1] !== undefined ? path.resolve(process.argv[at + 1]) : path.join(here, 'dist');
  await rm(outdir, { recursive: true, force: true });
  const pkg = await packageJson(here);
  // Every npm dependency (of the aggregator and of shared) is loaded from node_modules; only our workspace code is bundled.
  const external = [...new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys((await packageJson(path.join(here, '../shared'))).dependencies ?? {})])].filter(
    (name) => !name.startsWith('@passant/'),
  );
  let result;
  try {
    result = await esbuild.build({
      absWorkingDir: here,
      entryPoints: { 'passant-aggregator': 'src/cli.ts' },
      outdir,
      outExtension: { '.js': '.mjs' },
      // beside the entry, so that a source's own location is the same relative path from every output file
      chunkNames: '[name]-[hash]',
      splitting: true,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external,
      plugins: [sourceLocation(outdir)],
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
    `aggregator: built ${path.relative(process.cwd(), outdir) || '.'}/passant-aggregator.mjs and ${outputs.length - 1} chunks (${(bytes / 1024).toFixed(1)} kB) in ${Math.round(performance.now() - startedMs)} ms\n`,
  );
}

await build();
