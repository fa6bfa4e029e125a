// Bundles the aggregator's command line (src/cli.ts with @passant/shared) into dist/: plain JavaScript that Node
// runs without compiling TypeScript at start (production and docker compose run this; tsx is for development).
// The entry is dist/passant-aggregator.mjs; each command's code is in its own chunk beside it, loaded when the
// command runs, so `token list` does not load express or the MQTT client. npm dependencies stay external (loaded
// from node_modules: better-sqlite3 is native, express and pino load parts of themselves at run time).
// dist/sources.json lists the files the bundle was made of: bin/passant-aggregator.js runs the bundle when it is
// newer than each of them, else the sources through tsx.
//
// Files the sources find next to themselves (the package's package.json, the dashboard's dist/, modules resolved
// from a source folder) are found from the bundle as from the sources: each `import.meta.url` in a source becomes
// that source file's URL, computed from the bundle's own location (every output is in dist/, so one relative
// path fits every chunk).
//
// Reproducible: the same sources give the same bytes (content-hashed chunk names, relative source map paths).
// What the sensor's build shares with this one is @passant/shared/build-bundle's.
// Run by `npm run build -w @passant/aggregator` (and so by the root `build`, `prestart` and `pretest`).
// `node build.mjs --outdir DIR` builds into DIR instead of dist (tests); the bin runs only dist/.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { buildBundle, packageJson } from '@passant/shared/build-bundle';

const here = path.dirname(fileURLToPath(import.meta.url));

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

const pkg = await packageJson(here);
// Every npm dependency (of the aggregator and of shared) is loaded from node_modules; only our workspace code is bundled.
const external = [...new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys((await packageJson(path.join(here, '../shared'))).dependencies ?? {})])].filter(
  (name) => !name.startsWith('@passant/'),
);

await buildBundle(esbuild, {
  label: 'aggregator',
  packageDir: here,
  name: 'passant-aggregator',
  options: (outdir) => ({
    // beside the entry, so that a source's own location is the same relative path from every output file
    chunkNames: '[name]-[hash]',
    external,
    plugins: [sourceLocation(outdir)],
  }),
});
