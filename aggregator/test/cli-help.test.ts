/** `--help` on every command of `passant-aggregator`: exit 0 and that command's usage on stdout. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureOutput, type CapturedRun } from '@passant/test-helpers/capture-output';
import { main } from '../src/cli.ts';

function runCli(args: string[]): Promise<CapturedRun> {
  return captureOutput(() => main(args));
}

afterEach(() => vi.restoreAllMocks());

const COMMANDS: [string[], RegExp][] = [
  [['run'], /usage: passant-aggregator run \[--config FILE\]/],
  [['check-config'], /usage: passant-aggregator check-config/],
  [['config-reference'], /usage: passant-aggregator config-reference/],
  [['token'], /passant-aggregator token create --role viewer/],
  [['token', 'create'], /passant-aggregator token create --role viewer/],
  [['token', 'list'], /passant-aggregator token list/],
  [['token', 'revoke'], /passant-aggregator token revoke ID/],
  [['kit'], /usage: passant-aggregator kit .*--out DIR/],
  [['calibration'], /passant-aggregator calibration add --zone ZONE/],
  [['calibration', 'add'], /passant-aggregator calibration add --zone ZONE/],
  [['audit'], /usage: passant-aggregator audit --mqtt-url URL --api URL/],
  [['home-assistant'], /usage: passant-aggregator home-assistant --api URL --mqtt URL/],
];

describe('passant-aggregator COMMAND --help', () => {
  for (const [command, usage] of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      it(`${command.join(' ')} ${flag}`, async () => {
        const result = await runCli([...command, flag]);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(usage);
      });
    }
  }

  it('help COMMAND is the same as COMMAND --help', async () => {
    const result = await runCli(['help', 'token']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/passant-aggregator token revoke ID/);
  });

  it('a --help after -- is a value, not a request for help', async () => {
    const result = await runCli(['kit', '--', '--help']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
  });

  it('the overview still lists every command', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['run', 'check-config', 'config-reference', 'token', 'kit', 'audit', 'calibration', 'home-assistant']) {
      expect(result.stdout).toMatch(new RegExp(`passant-aggregator \\[?${command}\\b`));
    }
  });
});
