/**
 * The command line the `audit` and `home-assistant` commands share (src/command-line.ts): strict options with
 * --help, usage errors (exit 2, the message and the usage on stderr), and secrets that come from a file or the
 * environment, never from the command line. Through `passant-aggregator`'s own main, with real files; every case
 * here ends before anything connects.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureOutput, type CapturedRun } from '@passant/test-helpers/capture-output';
import { main } from '../src/cli.ts';
import { parseCommandLine, readSecrets, type CommandSpec } from '../src/command-line.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-command-line-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

function runCli(args: string[]): Promise<CapturedRun> {
  return captureOutput(() => main(args));
}

const SPEC: CommandSpec = {
  command: 'demo',
  usage: 'usage: passant-aggregator demo --api URL',
  options: { api: { type: 'string' }, tag: { type: 'string', multiple: true } },
  secrets: [
    { name: 'token', env: 'DEMO_TOKEN' },
    { name: 'mqtt-password', env: 'DEMO_PASSWORD' },
  ],
};

describe('parseCommandLine and readSecrets', () => {
  it('parse the options, with a --NAME-file option for each secret', () => {
    const values = parseCommandLine(SPEC, ['--api', 'http://x', '--tag', 'a', '--tag', 'b', '--token-file', '/t']);
    expect(values).toMatchObject({ api: 'http://x', tag: ['a', 'b'], 'token-file': '/t' });
  });

  it('a secret comes from its file (trimmed; the file wins over the variable), else from the variable', () => {
    const values = parseCommandLine(SPEC, ['--token-file', file('token', '  pst_from-file\n')]);
    expect(typeof values).toBe('object');
    const env = { DEMO_TOKEN: 'pst_from-env', DEMO_PASSWORD: ' secret \n' };
    expect(readSecrets(SPEC, values as Exclude<typeof values, number>, env)).toEqual({ token: 'pst_from-file', 'mqtt-password': 'secret' });
    expect(readSecrets(SPEC, {}, { DEMO_TOKEN: '  ' })).toEqual({ token: undefined, 'mqtt-password': undefined });
  });
});

describe('passant-aggregator audit and home-assistant: their command lines', () => {
  const AUDIT = ['audit', '--mqtt-url', 'mqtt://127.0.0.1:9', '--api', 'http://127.0.0.1:9'];
  const HA = ['home-assistant', '--api', 'http://127.0.0.1:9', '--mqtt', 'mqtt://127.0.0.1:9'];

  it.each([
    ['audit', [...AUDIT, '--token', 'pst_x'], /--mqtt-password-file or PASSANT_AUDIT_MQTT_PASSWORD, --token-file or PASSANT_AUDIT_TOKEN/],
    ['audit', [...AUDIT, '--mqtt-password=hunter2'], /--token-file or PASSANT_AUDIT_TOKEN/],
    ['home-assistant', [...HA, '--token=pst_x'], /--token-file or PASSANT_HA_TOKEN, --mqtt-password-file or PASSANT_HA_MQTT_PASSWORD/],
  ])('%s: a secret on the command line is refused (exit 2), and not repeated', async (command, args, ways) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^passant-aggregator ${command}: a secret never goes on the command line \\(ps shows it\\): use `));
    expect(run.stderr).toMatch(ways);
    expect(run.stderr).toContain(`usage: passant-aggregator ${command}`);
    expect(run.stderr).not.toMatch(/pst_x|hunter2/);
  });

  it.each([
    ['audit', AUDIT],
    ['home-assistant', HA],
  ])('%s: a secret file that cannot be read or is empty is a usage error naming the file, never its content', async (command, base) => {
    const missing = path.join(dir, 'no-such-token');
    const gone = await runCli([...base, '--token-file', missing]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`passant-aggregator ${command}: cannot read --token-file ${missing}: ENOENT`);
    const empty = file(`empty-${command}`, '\n');
    const blank = await runCli([...base, '--token-file', empty]);
    expect(blank.code).toBe(2);
    expect(blank.stderr).toContain(`passant-aggregator ${command}: --token-file ${empty} is empty`);
  });

  it('an unknown option or a missing value is a usage error; --help prints the usage and exits 0', async () => {
    const unknown = await runCli([...AUDIT, '--nonsense']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^passant-aggregator audit: .*--nonsense/);
    const noValue = await runCli(['home-assistant', '--api']);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toMatch(/^passant-aggregator home-assistant: .*--api/);
    const help = await runCli(['audit', '--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^usage: passant-aggregator audit --mqtt-url URL --api URL/);
  });

  it('audit: without a token from a file or PASSANT_AUDIT_TOKEN it refuses before connecting', async () => {
    const saved = process.env.PASSANT_AUDIT_TOKEN;
    delete process.env.PASSANT_AUDIT_TOKEN;
    try {
      const run = await runCli(AUDIT);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('passant-aggregator audit: no API token: set PASSANT_AUDIT_TOKEN or --token-file');
    } finally {
      if (saved !== undefined) process.env.PASSANT_AUDIT_TOKEN = saved;
    }
  });

  it('home-assistant: a CA file that cannot be read is a usage error naming it', async () => {
    const missing = path.join(dir, 'no-such-ca.pem');
    const run = await runCli([...HA, '--ca-file', missing]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`passant-aggregator home-assistant: cannot read --ca-file ${missing}: ENOENT`);
  });
});
