/**
 * The dashboard build: no source map unless a developer asks for one (`--dev`), since the aggregator serves
 * dist/ to anyone and a map holds the full source. Builds into a temporary folder (never the shared dist/).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const buildScript = path.resolve(here, '../dashboard/build.mjs');
const dirs: string[] = [];

async function build(...args: string[]): Promise<string> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-dashboard-build-'));
  dirs.push(out);
  const env = { ...process.env };
  delete env.PASSANT_DASHBOARD_SOURCEMAP;
  await run(process.execPath, [buildScript, '--outdir', out, ...args], { env });
  return out;
}

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('dashboard build', () => {
  it('emits no source map and no sourceMappingURL by default (production)', async () => {
    const out = await build();
    const files = fs.readdirSync(out);
    expect(files).toContain('app.js');
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(fs.readFileSync(path.join(out, 'app.js'), 'utf8')).not.toContain('sourceMappingURL');
  }, 60_000);

  it('emits app.js.map with --dev', async () => {
    const out = await build('--dev');
    expect(fs.existsSync(path.join(out, 'app.js.map'))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'app.js'), 'utf8')).toContain('sourceMappingURL=app.js.map');
  }, 60_000);
});
