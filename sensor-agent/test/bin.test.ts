/**
 * bin/passant-sensor.js runs the bundle from `npm run build` when it is newer than every source file it was built
 * from (dist/sources.json; without that list, every file of the sensor and of shared), else the TypeScript sources
 * through tsx. Tested on a copy of the bin in a temp tree with a stand-in bundle and stand-in sources that say
 * which one ran. With PASSANT_REQUIRE_BUILD=1 (the Docker image) a missing or stale bundle is refused instead.
 * The choice is @passant/shared/launch's, which the aggregator's bin uses too (aggregator/test/build.test.ts).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(HERE, '../bin/passant-sensor.js');
const NODE_MODULES = path.resolve(HERE, '../../node_modules');

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-bin-'));
  fs.symlinkSync(NODE_MODULES, path.join(root, 'node_modules'), 'dir');
  fs.mkdirSync(path.join(root, 'sensor-agent/bin'), { recursive: true });
  fs.mkdirSync(path.join(root, 'sensor-agent/src/sub'), { recursive: true });
  fs.mkdirSync(path.join(root, 'shared/src'), { recursive: true });
  fs.copyFileSync(BIN, path.join(root, 'sensor-agent/bin/passant-sensor.js'));
  fs.writeFileSync(path.join(root, 'sensor-agent/package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(
    path.join(root, 'sensor-agent/src/cli.ts'),
    "export async function main(argv: string[]): Promise<number> {\n  const from: string = 'source';\n  process.stdout.write(`${from} ${argv.join(' ')}`);\n  return 3;\n}\n",
  );
  fs.writeFileSync(path.join(root, 'sensor-agent/src/sub/deep.ts'), 'export const x = 1;\n');
  fs.writeFileSync(path.join(root, 'shared/src/index.ts'), 'export const y = 2;\n');
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function writeBundle(): void {
  fs.mkdirSync(path.join(root, 'sensor-agent/dist'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'sensor-agent/dist/passant-sensor.mjs'),
    "export async function main(argv) { process.stdout.write(`bundle ${argv.join(' ')}`); return 3; }\n",
  );
}

/** Sets a file's modification time `seconds` from now. */
function age(file: string, seconds: number): void {
  const t = new Date(Date.now() + seconds * 1000);
  fs.utimesSync(path.join(root, file), t, t);
}

function run(env: Record<string, string> = {}): { stdout: string; status: number; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [path.join(root, 'sensor-agent/bin/passant-sensor.js'), 'count', 'x.pcap'], {
      encoding: 'utf8',
      stdio: 'pipe',
      env: { ...process.env, ...env },
    });
    return { stdout, status: 0, stderr: '' };
  } catch (err) {
    const e = err as { stdout: string; status: number; stderr: string };
    return { stdout: e.stdout, status: e.status, stderr: e.stderr };
  }
}

describe('bin/passant-sensor.js', () => {
  it('runs the bundle when it is newer than every source, passing the arguments and the exit code', () => {
    writeBundle();
    for (const f of ['sensor-agent/src/cli.ts', 'sensor-agent/src/sub/deep.ts', 'shared/src/index.ts']) age(f, -60);
    expect(run()).toMatchObject({ stdout: 'bundle count x.pcap', status: 3 });
  });

  it('runs the sources through tsx when there is no bundle', () => {
    expect(run()).toMatchObject({ stdout: 'source count x.pcap', status: 3 });
  });

  it('runs the sources when a file of the sensor (in a subfolder too) or of shared is newer than the bundle', () => {
    writeBundle();
    for (const file of ['sensor-agent/src/sub/deep.ts', 'shared/src/index.ts']) {
      for (const f of ['sensor-agent/src/cli.ts', 'sensor-agent/src/sub/deep.ts', 'shared/src/index.ts']) age(f, -60);
      age(file, 60);
      expect(run().stdout, file).toBe('source count x.pcap');
    }
  });

  it('with the list of the sources the bundle was built from (dist/sources.json), looks only at those', () => {
    writeBundle();
    fs.writeFileSync(path.join(root, 'sensor-agent/dist/sources.json'), JSON.stringify(['src/cli.ts', '../shared/src/index.ts', 'src/gone.ts']));
    const all = ['sensor-agent/src/cli.ts', 'sensor-agent/src/sub/deep.ts', 'shared/src/index.ts'];
    // A file the bundle is not made of (deep.ts is not listed) is newer: still the bundle; a listed file that is
    // gone (src/gone.ts) does not count either.
    for (const f of all) age(f, -60);
    age('sensor-agent/src/sub/deep.ts', 60);
    expect(run().stdout).toBe('bundle count x.pcap');
    // A listed file of the sensor or of shared is newer: the sources.
    for (const file of ['sensor-agent/src/cli.ts', 'shared/src/index.ts']) {
      for (const f of all) age(f, -60);
      age(file, 60);
      expect(run().stdout, file).toBe('source count x.pcap');
    }
  });

  it('with PASSANT_REQUIRE_BUILD=1 runs only a current bundle: a missing or stale one is an error', () => {
    const missing = run({ PASSANT_REQUIRE_BUILD: '1' });
    expect(missing.status).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^passant-sensor: PASSANT_REQUIRE_BUILD=1 but .*passant-sensor\.mjs does not exist: run npm run build\n$/);
    writeBundle();
    fs.writeFileSync(path.join(root, 'sensor-agent/dist/sources.json'), JSON.stringify(['src/cli.ts']));
    age('sensor-agent/src/cli.ts', -60);
    expect(run({ PASSANT_REQUIRE_BUILD: '1' })).toMatchObject({ stdout: 'bundle count x.pcap', status: 3 });
    age('sensor-agent/src/cli.ts', 60);
    const stale = run({ PASSANT_REQUIRE_BUILD: '1' });
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain(`${path.join(root, 'sensor-agent/src/cli.ts')} is newer than`);
  });
});
