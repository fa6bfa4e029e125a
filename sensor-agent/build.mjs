// Bundles the sensor's command line (src/cli.ts with @passant/shared) into dist/: plain JavaScript that Node runs
// without compiling TypeScript at start, which on a Raspberry Pi means a faster start and less memory. The entry
// is dist/passant-sensor.mjs; each command's code is in its own chunk (dist/chunks/), loaded when the command
// runs, so `count` never loads the MQTT client or SQLite. Its npm dependencies stay external (better-sqlite3 is
// native). bin/passant-sensor.js runs the bundle when it is newer than every source it was built from (listed in
// dist/sources.json, paths relative to sensor-agent/), else the sources through tsx.
//
// Reproducible: the same commit gives the same bytes (no time stamps, content-hashed chunk names, relative source
// map paths); the version and the commit are built in (see src/build-info.ts for the hash the status announces).
// What the aggregator's build shares with this one is @passant/shared/build-bundle's.
// Run by `npm run build -w @passant/sensor-agent` (and so by the root `build`, `prestart` and `pretest`).
// `node build.mjs --outdir DIR` builds into DIR instead of dist (tests).
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { buildBundle, packageJson } from '@passant/shared/build-bundle';

const here = path.dirname(fileURLToPath(import.meta.url));

function gitCommit() {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return /^[0-9a-f]{7,40}$/.test(out) ? out : null;
  } catch {
    return null;
  }
}

// zod's `z` is a namespace re-exported from zod's index, which esbuild cannot shake: all of zod came along
// (every locale, the JSON Schema reader: about 750 kB). Our sources' `import { z } from 'zod'` is bundled as an
// import of the module that namespace is made of, whose unused exports esbuild leaves out (about 170 kB remain).
const ZOD_IMPORT = "import { z } from 'zod';";
const zodNamespace = path.join(path.dirname(createRequire(import.meta.url).resolve('zod')), 'v4/classic/external.js');
const shakeZod = {
  name: 'shake-zod',
  setup(b) {
    b.onLoad({ filter: /[\\/](sensor-agent|shared)[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes(ZOD_IMPORT)) return undefined;
      return { contents: text.replace(ZOD_IMPORT, `import * as z from ${JSON.stringify(zodNamespace)};`), loader: 'ts' };
    });
  },
};

const pkg = await packageJson(here);

await buildBundle(esbuild, {
  label: 'sensor-agent',
  packageDir: here,
  name: 'passant-sensor',
  options: () => ({
    chunkNames: 'chunks/[name]-[hash]',
    // npm dependencies are bundled too (one file per command loads faster and takes less memory than the hundred
    // small modules mqtt.js, pino and zod are made of), except those that cannot be: better-sqlite3 has native
    // code, and yaml is loaded with require() at run time, only for a YAML config file.
    external: ['better-sqlite3', 'yaml'],
    // The CommonJS packages bundled into these ES modules call require() for Node's built-in modules.
    banner: { js: "import { createRequire as __passantCreateRequire } from 'node:module'; const require = __passantCreateRequire(import.meta.url);" },
    // Less source for V8 to keep and parse at start (about half), on a board with little memory.
    minify: true,
    plugins: [shakeZod],
    define: { __PASSANT_SENSOR_BUILD__: JSON.stringify({ version: pkg.version, commit: gitCommit() }) },
  }),
});
