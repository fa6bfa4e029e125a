// What both programs' esbuild builds share (sensor-agent/build.mjs, aggregator/build.mjs): the entry src/cli.ts
// bundled into DIR/NAME.mjs, with each command's code in a chunk of its own loaded when the command runs; ES
// modules for Node 20; linked source maps with relative paths and content-hashed chunk names, so that the same
// sources give the same bytes; `--outdir DIR` (tests) instead of dist/; DIR/sources.json, the repository's files
// the bundle was made of (from esbuild's metafile, paths relative to the package folder), which the bins'
// launcher (launch.mjs) compares with the bundle to tell whether it is stale; a failure as one line per esbuild
// error and exit code 1; a line with the size and the time taken.
//
// Plain JavaScript for `node build.mjs`, exported as @passant/shared/build-bundle. esbuild is the caller's (a dev
// dependency of each program's package), handed in.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A package's package.json. */
export async function packageJson(dir) {
  return JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
}

/** DIR of `--outdir DIR` on the command line, else `packageDir`/dist. */
function outdirFromArgs(packageDir) {
  const at = process.argv.indexOf('--outdir');
  return at >= 0 && process.argv[at + 1] !== undefined ? path.resolve(process.argv[at + 1]) : path.join(packageDir, 'dist');
}

/**
 * Builds the bundle and reports it.
 * @param {typeof import('esbuild')} esbuild
 * @param {{
 *   label: string,
 *   packageDir: string,
 *   name: string,
 *   options: (outdir: string) => import('esbuild').BuildOptions,
 * }} program  `label` names the program in the report and the error; `packageDir` is the package folder
 *   (absolute); `name` the entry's output name; `options` what this program adds to or changes in the common
 *   options (given the output folder).
 * @returns {Promise<import('esbuild').BuildResult>}
 */
export async function buildBundle(esbuild, { label, packageDir, name, options }) {
  const startedMs = performance.now();
  const outdir = outdirFromArgs(packageDir);
  await rm(outdir, { recursive: true, force: true });
  let result;
  try {
    result = await esbuild.build({
      absWorkingDir: packageDir,
      entryPoints: { [name]: 'src/cli.ts' },
      outdir,
      outExtension: { '.js': '.mjs' },
      splitting: true,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'silent',
      ...options(outdir),
      metafile: true,
    });
  } catch (err) {
    process.stderr.write(
      `${label} build failed: ${err.errors?.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('\n') ?? err.message}\n`,
    );
    process.exit(1);
  }
  // The repository's files the bundle is made of (not npm packages, not esbuild's own stand-ins such as <runtime>).
  const sources = Object.keys(result.metafile.inputs)
    .filter((f) => !f.startsWith('<') && !f.split(/[\\/]/).includes('node_modules'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
  await writeFile(path.join(outdir, 'sources.json'), `${JSON.stringify(sources, null, 1)}\n`);
  const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.mjs'));
  const bytes = outputs.reduce((a, [, o]) => a + o.bytes, 0);
  process.stdout.write(
    `${label}: built ${path.relative(process.cwd(), outdir) || '.'}/${name}.mjs and ${outputs.length - 1} chunks (${(bytes / 1024).toFixed(1)} kB) in ${Math.round(performance.now() - startedMs)} ms\n`,
  );
  return result;
}
