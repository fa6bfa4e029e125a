/**
 * Bounded work from any input: crafted captures whose few frames claim a long time span. `count` and `run` must
 * finish them in memory proportional to their frames (here under a small V8 heap limit, which materialising the
 * claimed span would exceed many times over), print or queue only what the frames say, and tell the user about the
 * gaps instead of printing them as zeros. Also: frames out of order are reported under their own reason.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CountsMessageSchema, type CountsMessage } from '@passant/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@passant/test-helpers/tools';
import { spawnSensor, SENSOR_BIN } from '../helpers/agent-process.ts';
import { LINKTYPE, radiotapProbeRequest, writePcap } from '../helpers/pcap-writer.ts';

const T = Date.UTC(2024, 0, 1, 12, 0, 5);
/** The attack's numbers: 700 frames, 10,081 minutes apart (one more than the one-week gap guard allowed). */
const FRAMES = 700;
const APART_MIN = 10_081;
/** A V8 heap far below what 7 million windows need (the unbounded code reached 2.8 GB). */
const SMALL_HEAP = '--max-old-space-size=96';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function count(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SENSOR_BIN, 'count', ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NODE_OPTIONS: SMALL_HEAP },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const messages = (stdout: string): CountsMessage[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => CountsMessageSchema.parse(JSON.parse(l)));

/** A probe request from a distinct randomized address at each of `times` (ms). */
function writeProbes(file: string, times: number[]): void {
  writePcap(
    file,
    times.map((timeMs, i) => ({
      timeMs,
      data: radiotapProbeRequest({ src: `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`, rssi: -60 }),
    })),
    { linkType: LINKTYPE.RADIOTAP },
  );
}

let dir: string;
let sparse: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-crafted-'));
  sparse = path.join(dir, 'sparse.pcap');
  writeProbes(sparse, Array.from({ length: FRAMES }, (_, i) => T + i * APART_MIN * 60_000));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('crafted captures', () => {
  it('count: 700 frames 10,081 minutes apart print 700 windows and 699 gaps, in a small heap', { timeout: 60_000 }, async () => {
    expect(fs.statSync(sparse).size).toBeLessThan(100_000);
    const r = await count([sparse]);
    expect(r.code, r.stderr).toBe(0);
    const m = messages(r.stdout);
    expect(m).toHaveLength(FRAMES);
    expect(m.every((x) => x.wifi.devices === 1)).toBe(true);
    // The user is told: each gap (the first ones by time), and the totals in the summary.
    expect(r.stderr).toContain('no counted frame from 2024-01-01T12:01:00Z to 2024-01-08T12:01:00Z (10080 windows): not printed');
    expect(r.stderr).toMatch(new RegExp(`${(FRAMES - 1) * (APART_MIN - 1)} windows in ${FRAMES - 1} gaps without any counted frame were not printed`));
    expect(r.stderr).toMatch(/700 windows printed, 7045920 in 699 gaps not printed/);
  });

  it('count: a stretch up to --max-gap still prints zero windows (a quiet time); a longer one is a gap', async () => {
    const file = path.join(dir, 'quiet.pcap');
    writeProbes(file, [T, T + 59 * 60_000, T + 59 * 60_000 + 62 * 60_000]);
    const r = await count([file]);
    expect(r.code, r.stderr).toBe(0);
    const m = messages(r.stdout);
    // 59 minutes apart: 58 zero windows between two counted ones; then 62 minutes: 61 empty ones, over the hour.
    expect(m).toHaveLength(1 + 58 + 1 + 1);
    expect(m.slice(1, 59).every((x) => x.wifi.frames === 0)).toBe(true);
    expect(r.stderr).toMatch(/61 windows in 1 gaps/);
    const narrow = await count(['--max-gap', '0', file]);
    expect(messages(narrow.stdout)).toHaveLength(3);
  });

  it('count: frames out of order beyond the lateness are reported as such, not as below the RSSI floor', async () => {
    // Minutes 0..9, then (a second file: the watermark moves per file or MiB read) three frames from minute 2
    // again: 7 minutes late, more than the default 60 s.
    const first = path.join(dir, 'first.pcap');
    const late = path.join(dir, 'late.pcap');
    writeProbes(first, Array.from({ length: 10 }, (_, i) => T + i * 60_000));
    writeProbes(late, [T + 2 * 60_000, T + 2 * 60_000 + 1, T + 2 * 60_000 + 2]);
    const r = await count([first, late]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/not counted: 0 bad FCS, 0 bad CRC, 0 below the RSSI floor, 3 out of order beyond the lateness\)/);
    const floored = await count(['--rssi-floor', '-50', first, late]);
    expect(floored.stderr).toMatch(/10 below the RSSI floor, 3 out of order beyond the lateness\)/);
  });

  it('run: the same capture queues one row per counted window, in a small heap and a small outbox', { timeout: 60_000 }, async () => {
    const outbox = path.join(dir, 'run', 'outbox.sqlite');
    const port = await freePort(); // nobody listens: the counts stay in the outbox
    const agent = spawnSensor(['run'], {
      NODE_OPTIONS: SMALL_HEAP,
      PASSANT_SENSOR_ID: 'crafted-1',
      PASSANT_SOURCE_KIND: 'files',
      PASSANT_SOURCE_FILES: sparse,
      PASSANT_OUTBOX_PATH: outbox,
      PASSANT_MQTT_URL: `mqtt://127.0.0.1:${port}`,
      PASSANT_SHUTDOWN_STEP_TIMEOUT_MS: '500',
      PASSANT_LOG_STATS_INTERVAL_SECONDS: '0',
    });
    expect(await agent.exited, agent.stderr().toString()).toBe(0);
    const db = new Database(outbox, { readonly: true });
    const rows = (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
    db.close();
    expect(rows).toBe(FRAMES);
    expect(fs.statSync(outbox).size).toBeLessThan(1_000_000);
  });
});
