/**
 * The calibration command's token, as the other commands take theirs (src/command-line.ts): from --token-file or
 * PASSANT_TOKEN, never from the command line. Through `passant-aggregator`'s own main, with real files and a real
 * HTTP server standing in for the API that records the Authorization header each request carried (the fit itself
 * is tested against a real aggregator in calibration-routes.test.ts).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureOutput, type CapturedRun } from '@passant/test-helpers/capture-output';
import { main } from '../../src/cli.ts';

interface Received {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

let dir: string;
let server: http.Server;
let api: string;
let received: Received[] = [];
let savedToken: string | undefined;

const CALIBRATION = {
  id: 'cal_1',
  kind: 'present',
  radio: 'wifi',
  created: 1_778_000_000,
  parameters: { a: 0.5, residualSd: 1, t: 2 },
  points: { given: 6, used: 6, minutesHidden: 0 },
  statistics: { r2: 0.9, mae: 1 },
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-calibration-command-'));
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.method === 'POST' ? CALIBRATION : { calibrations: [CALIBRATION] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  received = [];
  savedToken = process.env.PASSANT_TOKEN;
  delete process.env.PASSANT_TOKEN;
});
afterEach(() => {
  if (savedToken === undefined) delete process.env.PASSANT_TOKEN;
  else process.env.PASSANT_TOKEN = savedToken;
  vi.restoreAllMocks();
});

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

function runCli(args: string[]): Promise<CapturedRun> {
  return captureOutput(() => main(args));
}

const LIST = () => ['calibration', 'list', '--zone', 'markt', '--api', api];

describe('passant-aggregator calibration: the token', () => {
  it.each([
    ['--token VALUE', ['--token', 'pst_secret-on-the-command-line']],
    ['--token=VALUE', ['--token=pst_secret-on-the-command-line']],
  ])('%s is refused (exit 2), the value not repeated, and nothing is sent', async (_, token) => {
    for (const args of [[...LIST(), ...token], ['calibration', 'add', '--zone', 'markt', '--kind', 'present', '--file', 'counts.csv', ...token, '--api', api]]) {
      const run = await runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^passant-aggregator calibration: a secret never goes on the command line \(ps shows it\): use --token-file or PASSANT_TOKEN\n/);
      expect(run.stderr).toContain('usage:\n  passant-aggregator calibration add --zone ZONE');
      expect(run.stderr).not.toContain('pst_secret');
      expect(run.stdout).not.toContain('pst_secret');
    }
    expect(received).toEqual([]);
  });

  it('--token-file FILE: the file\'s token (trimmed) goes to the API, and wins over PASSANT_TOKEN', async () => {
    const tokenFile = file('token', '  pst_from-file\n');
    const run = await runCli([...LIST(), '--token-file', tokenFile]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^cal_1 {2}present wifi/);
    expect(received).toEqual([{ method: 'GET', url: '/api/v1/zones/markt/calibrations', authorization: 'Bearer pst_from-file', body: '' }]);

    process.env.PASSANT_TOKEN = 'pst_from-env';
    const counts = file('counts.csv', 'from,to,people\n1778000000,,12\n');
    const add = await runCli(['calibration', 'add', '--zone', 'markt', '--kind', 'present', '--file', counts, '--token-file', tokenFile, '--api', api, '--json']);
    expect(add).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(add.stdout)).toEqual(CALIBRATION);
    expect(received[1]).toMatchObject({ method: 'POST', authorization: 'Bearer pst_from-file' });
    expect(JSON.parse(received[1]!.body)).toEqual({ kind: 'present', counts: [{ from: 1_778_000_000, to: 1_778_000_000, people: 12 }] });
  });

  it('PASSANT_TOKEN: the variable\'s token goes to the API', async () => {
    process.env.PASSANT_TOKEN = 'pst_from-env\n';
    const run = await runCli(LIST());
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(received).toEqual([expect.objectContaining({ method: 'GET', authorization: 'Bearer pst_from-env' })]);
  });

  it('a token file that cannot be read or is empty is a usage error (exit 2) naming the file, and nothing is sent', async () => {
    process.env.PASSANT_TOKEN = 'pst_from-env';
    const missing = path.join(dir, 'no-such-token');
    const gone = await runCli([...LIST(), '--token-file', missing]);
    expect(gone.code).toBe(2);
    expect(gone.stderr.startsWith(`passant-aggregator calibration: cannot read --token-file ${missing}: ENOENT\n`)).toBe(true);
    const folder = await runCli([...LIST(), '--token-file', dir]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain(`passant-aggregator calibration: cannot read --token-file ${dir}: EISDIR`);
    const empty = file('empty-token', '\n');
    const blank = await runCli([...LIST(), '--token-file', empty]);
    expect(blank.code).toBe(2);
    expect(blank.stderr).toContain(`passant-aggregator calibration: --token-file ${empty} is empty`);
    expect(received).toEqual([]);
  });

  it('without a token from a file or PASSANT_TOKEN it refuses before sending anything', async () => {
    const run = await runCli(LIST());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^passant-aggregator calibration: no API token: set PASSANT_TOKEN or --token-file\n/);
    expect(received).toEqual([]);
  });

  it('--help shows --token-file and PASSANT_TOKEN, not a --token option', async () => {
    const help = await runCli(['calibration', '--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('[--token-file FILE]');
    expect(help.stdout).toContain('PASSANT_TOKEN or --token-file FILE, never on the command line');
    expect(help.stdout).not.toMatch(/--token(?!-file)/);
  });
});
