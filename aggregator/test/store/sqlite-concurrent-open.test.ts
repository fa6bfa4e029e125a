/**
 * Several aggregators (processes) opening one new SQLite file, and its token database, at the same moment:
 * each must migrate or find the schema migrated, never fail with "table ... already exists".
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const AGGREGATOR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = `
import { SqliteStore } from './src/store/sqlite-store.ts';
import { TokenStore } from './src/auth/token-store.ts';
const [dir, startAt] = process.argv.slice(-2);
// Every child opens at the same moment (after its slow start-up), so that their migrations really race.
while (Date.now() < Number(startAt)) {}
const store = SqliteStore.open(dir + '/passant.db');
const tokens = TokenStore.open(dir + '/tokens.db');
process.stdout.write(String(store.schemaVersion()));
await store.close();
tokens.close();
`;

function openInChild(dir: string, startAt: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, dir, String(startAt)], {
      cwd: AGGREGATOR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('SQLite store opened by several processes at once', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('migrates once; every process opens the store', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 3; round++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-concurrent-open-'));
      dirs.push(dir);
      const startAt = Date.now() + 3000;
      const results = await Promise.all(Array.from({ length: 6 }, () => openInChild(dir, startAt)));
      for (const r of results) {
        expect(r.out).not.toMatch(/already exists/);
        expect(r.code, r.out).toBe(0);
      }
      expect(new Set(results.map((r) => r.out)).size).toBe(1);
    }
  });
});
