/** The `passant-aggregator` program as a process: exit codes, config problems, start and clean stop. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { topics } from '@passant/shared';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startAedes } from '@passant/test-helpers/aedes-broker';
import { makeDataDir, removeDir } from './helpers/aggregator.ts';
import { waitFor } from '@passant/test-helpers/wait';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/passant-aggregator.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('passant-aggregator', () => {
  it('lists every config problem and exits 1 before connecting anything', async () => {
    const broker = await startAedes();
    const dir = makeDataDir();
    try {
      let connections = 0;
      broker.aedes.on('client', () => connections++);
      const file = path.join(dir, 'config.yaml');
      fs.writeFileSync(file, 'k: 0\nzones:\n  - id: a\n    name: A\n    sensors: [s1]\n  - id: b\n    name: B\n    sensors: [s1]\n');
      const result = await run([], { PASSANT_CONFIG: file, PASSANT_MQTT_URL: broker.url, PASSANT_HTTP_PORT: 'eighty', PASSANT_DATA_DIR: dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('invalid configuration');
      expect(result.stderr).toMatch(/- k: .*>=2/);
      expect(result.stderr).toMatch(/- http\.port: .*\(set by PASSANT_HTTP_PORT\)/);
      expect(result.stderr).toMatch(/- zones\[1\]\.sensors\[0\]: sensor "s1" is already in zone "a"/);
      expect(connections).toBe(0);
      expect(fs.existsSync(path.join(dir, 'passant.db'))).toBe(false);
    } finally {
      removeDir(dir);
      await broker.close();
    }
  });

  it('check-config and config-reference', async () => {
    const ok = await run(['check-config'], {});
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('configuration is valid');
    const ref = await run(['config-reference'], {});
    expect(ref.code).toBe(0);
    expect(ref.stdout).toContain('| `mqtt.url` | `PASSANT_MQTT_URL` |');
    const bad = await run(['frobnicate'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
  });

  it('runs, answers /healthz, and on SIGTERM stops cleanly after publishing offline', async () => {
    const broker = await startAedes();
    const dir = makeDataDir();
    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'cli-watcher', reconnectPeriod: 0 });
    const states: string[] = [];
    watcher.on('message', (_t, p) => states.push((JSON.parse(p.toString()) as { state: string }).state));
    await watcher.subscribeAsync(topics.aggregatorStatus('cli-test'), { qos: 1 });
    const child = spawn(process.execPath, [BIN, 'run'], {
      env: {
        PATH: process.env.PATH ?? '',
        PASSANT_MQTT_URL: broker.url,
        PASSANT_HTTP_PORT: '0',
        PASSANT_DATA_DIR: dir,
        PASSANT_AGGREGATOR_ID: 'cli-test',
        PASSANT_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const url = await waitFor(
        () => {
          const line = stdout.split('\n').find((l) => l.includes('"msg":"HTTP listening"'));
          return line ? (JSON.parse(line) as { url: string }).url : undefined;
        },
        'HTTP listening line',
        20_000,
      );
      await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, 'healthz 200', 20_000);
      await waitFor(() => states.includes('online'), 'online status');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await waitFor(() => states.includes('offline'), 'offline status');
      expect(stdout).toContain('aggregator stopped');
      expect(fs.existsSync(path.join(dir, 'passant.db'))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await watcher.endAsync(true);
      removeDir(dir);
      await broker.close();
    }
  });
});
