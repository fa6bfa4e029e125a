/**
 * The dashboard's large files as the build compressed them (precompressed.ts): a client that accepts brotli gets
 * NAME.br, one that accepts only gzip NAME.gz, anyone else the file itself; a file without a compressed copy is
 * served as before; a file changed on disk is served changed. A real aggregator on a real port, raw HTTP (fetch
 * would decompress and hide what was sent).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { makeDataDir, removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';

let broker: TestBroker;
let agg: TestAggregator;
let dashboardDir: string;

const APP_JS = `console.log(${JSON.stringify('passant '.repeat(4000))});\n`;
const APP_CSS = `body { color: #111; }\n${'.x { margin: 0; }\n'.repeat(500)}`;

function writeBuild(js: string): void {
  fs.writeFileSync(path.join(dashboardDir, 'app.js'), js);
  fs.writeFileSync(path.join(dashboardDir, 'app.js.br'), zlib.brotliCompressSync(js));
  fs.writeFileSync(path.join(dashboardDir, 'app.js.gz'), zlib.gzipSync(js));
}

function get(file: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${agg.url}${file}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

beforeAll(async () => {
  broker = await startAedes();
  dashboardDir = makeDataDir();
  fs.writeFileSync(path.join(dashboardDir, 'index.html'), '<!doctype html><title>Passant test dashboard</title>');
  fs.writeFileSync(path.join(dashboardDir, 'app.css'), APP_CSS);
  writeBuild(APP_JS);
  agg = await startTestAggregator(broker.url, { k: 5, zones: [], http: { dashboardDir } });
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  removeDir(dashboardDir);
  await broker?.close();
});

describe('precompressed dashboard files', () => {
  it('sends app.js.br to a client that accepts brotli, app.js.gz to one that accepts only gzip, app.js to others', async () => {
    const br = await get('/app.js', { 'Accept-Encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers.vary).toMatch(/Accept-Encoding/);
    expect(br.body.equals(fs.readFileSync(path.join(dashboardDir, 'app.js.br')))).toBe(true);
    expect(zlib.brotliDecompressSync(br.body).toString('utf8')).toBe(APP_JS);
    expect(Number(br.headers['content-length'])).toBe(br.body.length);

    const gz = await get('/app.js', { 'Accept-Encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.body).toString('utf8')).toBe(APP_JS);

    const plain = await get('/app.js', { 'Accept-Encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString('utf8')).toBe(APP_JS);
  });

  it('answers a repeated request with its ETag by 304, and HEAD with headers only', async () => {
    const first = await get('/app.js', { 'Accept-Encoding': 'br' });
    const etag = first.headers.etag;
    expect(etag).toBeTruthy();
    const again = await get('/app.js', { 'Accept-Encoding': 'br', 'If-None-Match': String(etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const head = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${agg.url}/app.js`, { method: 'HEAD', headers: { 'Accept-Encoding': 'br' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res));
      });
      req.on('error', reject);
      req.end();
    });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-encoding']).toBe('br');
  });

  it('serves a file without a compressed copy as before (compressed on the fly)', async () => {
    const css = await get('/app.css', { 'Accept-Encoding': 'gzip' });
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toMatch(/text\/css/);
    expect(css.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(css.body).toString('utf8')).toBe(APP_CSS);
    const page = await get('/', { 'Accept-Encoding': 'br' });
    expect(page.status).toBe(200);
  });

  it('serves a rebuilt file as it now is (the copy in memory follows the file on disk)', async () => {
    expect(zlib.brotliDecompressSync((await get('/app.js', { 'Accept-Encoding': 'br' })).body).toString('utf8')).toBe(APP_JS);
    const rebuilt = `${APP_JS}console.log('rebuilt');\n`;
    writeBuild(rebuilt);
    expect(zlib.brotliDecompressSync((await get('/app.js', { 'Accept-Encoding': 'br' })).body).toString('utf8')).toBe(rebuilt);
    writeBuild(APP_JS);
  });

  it('never serves a compressed copy of a file that is not there, nor anything outside the folder', async () => {
    fs.writeFileSync(path.join(dashboardDir, 'gone.js.br'), zlib.brotliCompressSync('console.log("stale");'));
    const gone = await get('/gone.js', { 'Accept-Encoding': 'br' });
    expect(gone.status).toBe(404);
    const outside = await get('/..%2fapp.js', { 'Accept-Encoding': 'br' });
    expect(outside.headers['content-encoding']).not.toBe('br');
  });
});
