/**
 * The dashboard build compresses its large files once (dashboard/build.mjs): app.js.br and app.js.gz (and the same
 * for app.css) hold exactly app.js (app.css), for the aggregator to send as they are
 * (aggregator/src/http/precompressed.ts). Builds into a temporary folder (never the shared dist/).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const buildScript = path.resolve(here, '../dashboard/build.mjs');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-dashboard-compressed-'));

afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe('dashboard build, compressed copies', () => {
  it('writes NAME.br and NAME.gz of app.js and app.css that decompress to the file, smaller than it', async () => {
    await run(process.execPath, [buildScript, '--outdir', out]);
    for (const name of ['app.js', 'app.css']) {
      const original = fs.readFileSync(path.join(out, name));
      const br = fs.readFileSync(path.join(out, `${name}.br`));
      const gz = fs.readFileSync(path.join(out, `${name}.gz`));
      expect(zlib.brotliDecompressSync(br).equals(original), `${name}.br`).toBe(true);
      expect(zlib.gunzipSync(gz).equals(original), `${name}.gz`).toBe(true);
      expect(br.length, `${name}.br is smaller than ${name}.gz`).toBeLessThan(gz.length);
      expect(gz.length, `${name}.gz is smaller than ${name}`).toBeLessThan(original.length / 2);
    }
  }, 60_000);
});
