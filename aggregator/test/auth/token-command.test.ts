/** `passant-aggregator token ...`: in process for the cases, and as a real process against a running aggregator. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tokenCommand } from '../../src/auth/token-command.ts';
import { TokenStore } from '../../src/auth/token-store.ts';
import { startAedes } from '@passant/test-helpers/aedes-broker';
import { makeDataDir, removeDir, startTestAggregator } from '../helpers/aggregator.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/passant-aggregator.js');

let dir: string;
let configFile: string;

function run(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = tokenCommand([...args, '--config', configFile], { out: (t) => (out += t), err: (t) => (err += t), env: {} });
  return { code, out, err };
}

beforeEach(() => {
  dir = makeDataDir();
  configFile = path.join(dir, 'passant.yaml');
  fs.writeFileSync(
    configFile,
    `data:\n  dir: ${JSON.stringify(path.join(dir, 'data'))}\nzones:\n  - id: front\n    name: Front\n    sensors: [s1]\nsites:\n  - id: town\n    name: Town\n    zones: [front]\n`,
  );
});

afterEach(() => removeDir(dir));

describe('token command', () => {
  it('create prints the token once; only its hash is stored; list shows no secret', () => {
    const created = run(['create', '--role', 'viewer', '--zone', 'front', '--site', 'town', '--name', 'Shop 12']);
    expect(created.code).toBe(0);
    const token = created.out.trim().split('\n').pop()!;
    expect(token).toMatch(/^pst_[A-Za-z0-9_-]{43}$/);
    expect(created.out).toMatch(/^created [0-9a-f]{12} {2}viewer zones=front sites=town {2}name="Shop 12"/);
    const store = TokenStore.open(path.join(dir, 'data', 'tokens.db'));
    try {
      expect(store.verify(token)).toMatchObject({ role: 'viewer', zones: ['front'], sites: ['town'], name: 'Shop 12' });
    } finally {
      store.close();
    }
    const json = run(['create', '--role', 'privacy', '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.out) as { id: string; role: string; token: string };
    expect(parsed).toMatchObject({ role: 'privacy', zones: [], revokedAt: null });
    const list = run(['list']);
    expect(list.code).toBe(0);
    expect(list.out.trim().split('\n')).toHaveLength(2);
    expect(list.out).toContain(parsed.id);
    expect(list.out).not.toContain('pst_');
    const listJson = JSON.parse(run(['list', '--json']).out) as unknown[];
    expect(listJson).toHaveLength(2);
    expect(JSON.stringify(listJson)).not.toMatch(/pst_|hash/);
  });

  it('revoke, revoke again, revoke an unknown id', () => {
    const { id } = JSON.parse(run(['create', '--role', 'admin', '--json']).out) as { id: string };
    expect(run(['revoke', id])).toMatchObject({ code: 0, out: `revoked ${id}\n` });
    expect(run(['revoke', id])).toMatchObject({ code: 0, out: `${id} was already revoked\n` });
    expect(run(['revoke', 'abc'])).toMatchObject({ code: 1, err: expect.stringMatching(/no token "abc"/) });
    expect(run(['list']).out).toMatch(/REVOKED/);
  });

  it.each([
    [['create', '--role', 'viewer', '--zone', 'nowhere'], 1, /zone "nowhere" is not in the configuration \(zones: front\)/],
    [['create', '--role', 'viewer', '--site', 'mall'], 1, /site "mall" is not in the configuration/],
    [['create', '--role', 'viewer'], 1, /needs at least one --zone, --site or --owner/],
    [['create', '--role', 'viewer', '--owner', 'Nobody'], 1, /no zone in the configuration has owner "Nobody"/],
    [['create', '--role', 'admin', '--zone', 'front'], 1, /for viewer tokens/],
    [['create', '--role', 'root'], 2, /--role must be one of viewer, admin, privacy/],
    [['create', '--role', 'viewer', '--zone'], 2, /argument missing|--zone/],
    [['create', '--rol', 'admin'], 2, /Unknown option '--rol'/],
    [['revoke'], 2, /give exactly one token id/],
    [['list', '--role', 'admin'], 2, /are for create/],
    [['frobnicate'], 2, /unknown subcommand "frobnicate"/],
  ])('%j exits %i', (args, code, message) => {
    const result = run(args);
    expect(result.code).toBe(code);
    expect(result.err).toMatch(message);
    expect(result.out).toBe('');
  });

  it('a bad configuration lists its problems and exits 1', () => {
    fs.writeFileSync(configFile, 'k: 0\n');
    const result = run(['list']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/- k: /);
  });

  it('the real program: a token it creates opens the API of a running aggregator, and revoking it closes it', async () => {
    const broker = await startAedes();
    const dataDir = path.join(dir, 'data');
    const agg = await startTestAggregator(broker.url, { zones: [{ id: 'front', name: 'Front', sensors: ['s1'] }], aggregator: { id: 'token-cli' } }, { dataDir });
    const exec = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', PASSANT_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    try {
      const created = await exec(['token', 'create', '--role', 'admin', '--json']);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const { id, token } = JSON.parse(created.stdout) as { id: string; token: string };
      const me = await fetch(`${agg.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(await me.json()).toMatchObject({ role: 'admin', tokenId: id });
      expect((await exec(['token', 'revoke', id])).code).toBe(0);
      const after = await fetch(`${agg.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(after.status).toBe(401);
      await after.text();
      expect(agg.logText()).not.toContain(token);
    } finally {
      await agg.close();
      await broker.close();
    }
  });
});
