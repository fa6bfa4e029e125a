/**
 * The aggregator as built JavaScript (build.mjs, what production and docker compose run): the build is
 * reproducible, the built command line answers --help and check-config, and the built aggregator runs against a
 * real broker (aedes) and answers HTTP with its package version (found from the bundle as from the sources); it
 * lists the files it was made of in sources.json. And bin/passant-aggregator.js chooses the bundle when it is newer
 * than every source it was made of (sources.json; without it, every file of the aggregator and of shared), else
 * the sources through tsx, or refuses with PASSANT_REQUIRE_BUILD=1; tested on a copy of the bin in a temp tree with
 * stand-ins.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAedes } from '@passant/test-helpers/aedes-broker';

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(PKG, '..');
const NODE_MODULES = path.join(REPO, 'node_modules');
const VERSION = (JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8')) as { version: string }).version;

/** Every file below `dir` (relative path -> bytes). */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(path.relative(dir, path.join(e.parentPath, e.name)), fs.readFileSync(path.join(e.parentPath, e.name)));
  }
  return out;
}

function runNode(args: string[], env: Record<string, string> = {}): { stdout: string; stderr: string; status: number } {
  try {
    const stdout = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: 'pipe', env: { ...process.env, ...env } });
    return { stdout, stderr: '', status: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; status: number };
    return { stdout: e.stdout, stderr: e.stderr, status: e.status };
  }
}

/** Runs the built command line as the bin does: imports the bundle and calls its main with the arguments. */
const RUN_BUNDLE = ['--input-type=module', '-e', 'const { main } = await import(process.argv[1]); process.exitCode = await main(process.argv.slice(2));'];

describe('aggregator build', () => {
  let dir: string;
  let out: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-agg-build-'));
    // npm dependencies are external: the bundle loads them from a node_modules above it, as in the repository
    fs.symlinkSync(NODE_MODULES, path.join(dir, 'node_modules'), 'dir');
    out = path.join(dir, 'a');
    execFileSync(process.execPath, [path.join(PKG, 'build.mjs'), '--outdir', out], { cwd: PKG, stdio: 'pipe' });
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('two builds give the same bytes; the code is plain JavaScript with no TypeScript loader', () => {
    const b = path.join(dir, 'b');
    execFileSync(process.execPath, [path.join(PKG, 'build.mjs'), '--outdir', b], { cwd: PKG, stdio: 'pipe' });
    const ta = tree(out);
    const tb = tree(b);
    expect(ta.has('passant-aggregator.mjs')).toBe(true);
    expect([...tb.keys()].sort()).toEqual([...ta.keys()].sort());
    for (const [name, bytes] of ta) expect(tb.get(name)!.equals(bytes), name).toBe(true);
    const code = [...ta.entries()].filter(([n]) => n.endsWith('.mjs')).map(([, v]) => v.toString('utf8')).join('\n');
    expect(code).not.toMatch(/from ["']tsx|import\(["']tsx/);
    expect(code).not.toMatch(/from ["'][^"']*\.ts["']/);
  });

  it('lists the files of the repository it was made of in sources.json, relative to the package', () => {
    const listed = JSON.parse(fs.readFileSync(path.join(out, 'sources.json'), 'utf8')) as string[];
    expect(listed).toContain('src/cli.ts');
    // a command's code loaded on demand (a chunk of its own) too
    expect(listed).toContain('src/audit/audit-command.ts');
    expect(listed.some((f) => f.startsWith('../shared/src/'))).toBe(true);
    expect([...listed].sort()).toEqual(listed);
    for (const f of listed) {
      expect(f, f).toMatch(/^(src|\.\.\/shared\/src)\/[\w./-]+\.ts$/);
      expect(fs.statSync(path.join(PKG, f)).isFile(), f).toBe(true);
    }
  });

  it('answers --help and checks a configuration', () => {
    const help = runNode([...RUN_BUNDLE, path.join(out, 'passant-aggregator.mjs'), '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage:\n {2}passant-aggregator \[run\]/);

    const good = runNode([...RUN_BUNDLE, path.join(out, 'passant-aggregator.mjs'), 'check-config', '--config', path.join(REPO, 'deploy/aggregator/passant.yaml')], {
      PASSANT_MQTT_PASSWORD: 'placeholder',
    });
    expect(good, good.stderr).toMatchObject({ status: 0 });
    const bad = runNode([...RUN_BUNDLE, path.join(out, 'passant-aggregator.mjs'), 'check-config', '--config', path.join(REPO, 'deploy/aggregator/passant.yaml')], {
      PASSANT_MQTT_PASSWORD: 'placeholder',
      PASSANT_K: 'many',
    });
    expect(bad.status).toBe(1);
    expect(`${bad.stdout}${bad.stderr}`).toMatch(/\bk\b/);
  });

  it('runs: connects to a broker, answers HTTP with its version, and stops in order on SIGTERM', async () => {
    const broker = await startAedes();
    const data = path.join(dir, 'data');
    const child = spawn(process.execPath, [...RUN_BUNDLE, path.join(out, 'passant-aggregator.mjs'), 'run'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PASSANT_MQTT_URL: broker.url,
        PASSANT_HTTP_HOST: '127.0.0.1',
        PASSANT_HTTP_PORT: '0',
        PASSANT_DATA_DIR: data,
        PASSANT_LOG_LEVEL: 'info',
      },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // The log lines that say where it listens and that its counts subscription is in place (they come in either
      // order: HTTP and MQTT start side by side, and /healthz says 503 until both are up).
      const url = await new Promise<string>((resolve, reject) => {
        const lines = readline.createInterface({ input: child.stdout });
        let listening: string | undefined;
        let subscribed = false;
        lines.on('line', (line) => {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'HTTP listening' && entry.url !== undefined) listening = entry.url;
          if (entry.msg === 'subscribed') subscribed = true;
          if (listening !== undefined && subscribed) resolve(listening);
        });
        void exited.then((code) => reject(new Error(`the built aggregator exited (${code}) before listening: ${stderr.slice(-2000)}`)));
      });
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', mqtt: 'connected' });
      const doc = (await (await fetch(`${url}/api/v1/openapi.json`)).json()) as { info: { version: string } };
      expect(doc.info.version).toBe(VERSION);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await broker.close();
    }
  }, 60_000);
});

describe('bin/passant-aggregator.js', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-agg-bin-'));
    fs.symlinkSync(NODE_MODULES, path.join(root, 'node_modules'), 'dir');
    fs.mkdirSync(path.join(root, 'aggregator/bin'), { recursive: true });
    fs.mkdirSync(path.join(root, 'aggregator/src/sub'), { recursive: true });
    fs.mkdirSync(path.join(root, 'shared/src'), { recursive: true });
    fs.copyFileSync(path.join(PKG, 'bin/passant-aggregator.js'), path.join(root, 'aggregator/bin/passant-aggregator.js'));
    fs.writeFileSync(path.join(root, 'aggregator/package.json'), '{ "type": "module" }\n');
    fs.writeFileSync(
      path.join(root, 'aggregator/src/cli.ts'),
      "export async function main(argv: string[]): Promise<number> {\n  const from: string = 'source';\n  process.stdout.write(`${from} ${argv.join(' ')}`);\n  return 3;\n}\n",
    );
    fs.writeFileSync(path.join(root, 'aggregator/src/sub/deep.ts'), 'export const x = 1;\n');
    fs.writeFileSync(path.join(root, 'shared/src/index.ts'), 'export const y = 2;\n');
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  function writeBundle(): void {
    fs.mkdirSync(path.join(root, 'aggregator/dist'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'aggregator/dist/passant-aggregator.mjs'),
      "export async function main(argv) { process.stdout.write(`bundle ${argv.join(' ')}`); return 3; }\n",
    );
  }

  /** Sets a file's modification time `seconds` from now. */
  function age(file: string, seconds: number): void {
    const t = new Date(Date.now() + seconds * 1000);
    fs.utimesSync(path.join(root, file), t, t);
  }

  const SOURCES = ['aggregator/src/cli.ts', 'aggregator/src/sub/deep.ts', 'shared/src/index.ts'];
  const run = (env: Record<string, string> = {}) => runNode([path.join(root, 'aggregator/bin/passant-aggregator.js'), 'token', 'list'], env);

  it('runs the bundle when it is newer than every source, passing the arguments and the exit code', () => {
    writeBundle();
    for (const f of SOURCES) age(f, -60);
    expect(run()).toMatchObject({ stdout: 'bundle token list', status: 3 });
    expect(run({ PASSANT_REQUIRE_BUILD: '1' })).toMatchObject({ stdout: 'bundle token list', status: 3 });
  });

  it('runs the sources through tsx when there is no bundle, unless PASSANT_REQUIRE_BUILD=1', () => {
    expect(run()).toMatchObject({ stdout: 'source token list', status: 3 });
    const refused = run({ PASSANT_REQUIRE_BUILD: '1' });
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/PASSANT_REQUIRE_BUILD=1 but .*passant-aggregator\.mjs does not exist: run npm run build/);
  });

  it('runs the sources when a file of the aggregator (in a subfolder too) or of shared is newer than the bundle', () => {
    writeBundle();
    for (const file of ['aggregator/src/sub/deep.ts', 'shared/src/index.ts']) {
      for (const f of SOURCES) age(f, -60);
      age(file, 60);
      expect(run().stdout, file).toBe('source token list');
      expect(run({ PASSANT_REQUIRE_BUILD: '1' }).stderr, file).toMatch(/has files newer than/);
    }
  });

  it('with the list of the sources the bundle was made of (dist/sources.json), looks only at those', () => {
    writeBundle();
    fs.writeFileSync(path.join(root, 'aggregator/dist/sources.json'), JSON.stringify(['../shared/src/index.ts', 'src/cli.ts', 'src/gone.ts']));
    // A file the bundle does not include (deep.ts is not listed) is newer: still the bundle, in production too; a
    // listed file that is gone (src/gone.ts) does not count either.
    for (const f of SOURCES) age(f, -60);
    age('aggregator/src/sub/deep.ts', 60);
    expect(run()).toMatchObject({ stdout: 'bundle token list', status: 3 });
    expect(run({ PASSANT_REQUIRE_BUILD: '1' })).toMatchObject({ stdout: 'bundle token list', status: 3 });
    // A file it does include, of the aggregator or of shared, is newer: the sources, or the refusal naming it.
    for (const file of ['aggregator/src/cli.ts', 'shared/src/index.ts']) {
      for (const f of SOURCES) age(f, -60);
      age(file, 60);
      expect(run(), file).toMatchObject({ stdout: 'source token list', status: 3 });
      const refused = run({ PASSANT_REQUIRE_BUILD: '1' });
      expect(refused.status, file).toBe(1);
      expect(refused.stderr, file).toContain(`${path.join(root, file)} is newer than ${path.join(root, 'aggregator/dist/passant-aggregator.mjs')}`);
    }
  });
});
