/**
 * The sensor's build identity: `npm run build` is reproducible (two builds, the same bytes), the hash the sensor
 * announces is what the README's shell command computes from a build, and the `online` status carries it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatusMessageSchema, topics } from '@passant/shared';
import { startAgent } from '../src/agent.ts';
import { bundleSha256, gitCommit, sensorBuild, sourcesSha256 } from '../src/build-info.ts';
import { startAedes } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(PKG, '..');

/** Every file below `dir` (relative path -> bytes). */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    out.set(path.relative(dir, full), fs.readFileSync(full));
  }
  return out;
}

describe('sensor build', () => {
  let dir: string;
  beforeAll(() => void (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-build-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('two builds give the same bytes, and the announced hash is what the README command computes', () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    for (const out of [a, b]) execFileSync(process.execPath, [path.join(PKG, 'build.mjs'), '--outdir', out], { cwd: PKG, stdio: 'pipe' });
    const ta = tree(a);
    const tb = tree(b);
    expect(ta.size).toBeGreaterThan(2);
    expect([...tb.keys()].sort()).toEqual([...ta.keys()].sort());
    for (const [name, bytes] of ta) expect(tb.get(name)!.equals(bytes), name).toBe(true);
    expect(ta.has('passant-sensor.mjs')).toBe(true);

    const shell = execFileSync('sh', ['-c', "find . -name '*.mjs' | LC_ALL=C sort | xargs cat | sha256sum"], { cwd: a, encoding: 'utf8' });
    expect(bundleSha256(a)).toBe(shell.split(' ')[0]);
    // The version and the commit are built in.
    const commit = gitCommit(REPO);
    const code = [...ta.entries()].filter(([n]) => n.endsWith('.mjs')).map(([, v]) => v.toString('utf8')).join('\n');
    const version = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8')).version as string;
    // (Minified: no spaces.)
    expect(code.replace(/\s+/g, '')).toContain(`{version:${JSON.stringify(version)},commit:${JSON.stringify(commit)}}`);
  });

  it('the online status carries the build (here the TypeScript path: the hash of the sources)', async () => {
    const build = sensorBuild();
    expect(build.sha256).toBe(sourcesSha256(REPO));
    expect(build.commit).toBe(gitCommit(REPO));
    const broker = await startAedes();
    const agent = await startAgent({ sensorId: 'build-1', mqtt: { url: broker.url }, outbox: { path: ':memory:' }, log: { statsIntervalSeconds: 0 } });
    try {
      await waitFor(() => broker.published.some((p) => p.topic === topics.sensorStatus('build-1')), 'the online status', 15_000);
      const status = StatusMessageSchema.parse(JSON.parse(broker.published.find((p) => p.topic === topics.sensorStatus('build-1'))!.payload.toString('utf8')));
      expect(status.state).toBe('online');
      expect(status.build).toEqual(build);
      expect(status.build!.sha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await agent.close();
      await broker.close();
    }
  });
});
