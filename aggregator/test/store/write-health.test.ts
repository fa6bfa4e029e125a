/**
 * /healthz tells whether the SQLite store can WRITE, not only read: a real aggregator keeps its data folder on a
 * small tmpfs, which the test fills up: /healthz must turn 503 with `store: failing` and SQLite's reason, and 200
 * again once writes succeed, with every window stored exactly once (the ingest acknowledges only what it stored,
 * and the broker redelivers the rest). (A read-only remount of the tmpfs is refused while SQLite keeps its WAL
 * index mapped for writing, so a read-only file system is not played here; it takes the same path: a failed write
 * and a failed write probe.)
 *
 * Needs root for `mount -t tmpfs` (the package mount, util-linux): skipped with a message when mounting is not
 * permitted, except under CI=true, where it fails.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { topics } from '@passant/shared';
import type { HealthzBody } from '@passant/shared';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { readCountsRows } from '@passant/test-helpers/store-file';
import { waitFor } from '@passant/test-helpers/wait';
import { startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';
import { countsMessage, minuteAgo } from '../helpers/messages.ts';

/**
 * Room enough for the WAL to grow while the redelivered windows are written: while the disk was full the broker
 * redelivered the windows every few hundred ms, and a loaded machine (the whole suite at once) keeps readers in the
 * WAL long enough that 32 MB filled up again before a checkpoint could start it over.
 */
const MOUNT_SIZE = '256m';

/** A fresh tmpfs mounted on a new folder, or null (with the reason printed) when this machine does not let us. */
function mountTmpfs(): string | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-healthz-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${MOUNT_SIZE}`, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch (err) {
    fs.rmdirSync(dir);
    const message = `cannot mount a tmpfs (needs root and the mount command of util-linux): ${(err as Error).message.split('\n')[0]}`;
    if (process.env.CI === 'true') throw new Error(`${message} (required under CI=true)`);
    process.stderr.write(`skipping the store write-health test: ${message}\n`);
    return null;
  }
}

const mountDir = mountTmpfs();
let broker: TestBroker;
let publisher: MqttClient;
let agg: TestAggregator;

async function healthz(): Promise<{ status: number; body: HealthzBody }> {
  const res = await fetch(`${agg.url}/healthz`);
  return { status: res.status, body: (await res.json()) as HealthzBody };
}

/** Publishes `n` windows of new sensors `<prefix>-<i>` (one window each), QoS 1. */
async function publishWindows(prefix: string, n: number): Promise<void> {
  const windowStart = minuteAgo(3);
  for (let i = 0; i < n; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, (_, j) => {
        const m = countsMessage(`${prefix}-${i + j}`, windowStart, 7, 2);
        return publisher.publishAsync(topics.sensorCounts(m.sensorId), JSON.stringify(m), { qos: 1 });
      }),
    );
  }
}

function storedOf(prefix: string): number {
  return readCountsRows(path.join(mountDir!, 'passant.db')).filter((r) => r.sensor_id.startsWith(`${prefix}-`)).length;
}

describe.skipIf(mountDir === null)('/healthz and a store that cannot write (real SQLite on a tmpfs)', () => {
  beforeAll(async () => {
    broker = await startAedes();
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'write-health-publisher', reconnectPeriod: 0 });
    agg = await startTestAggregator(
      broker.url,
      { aggregator: { id: 'write-health' }, ingest: { storeRetryDelayMs: 300 } },
      { dataDir: mountDir! },
    );
    await agg.mqttReady;
  });

  afterAll(async () => {
    await agg?.close();
    await publisher?.endAsync(true);
    await broker?.close();
    if (mountDir !== null) {
      try {
        execFileSync('mount', ['-o', 'remount,rw', mountDir], { stdio: 'pipe' });
      } catch {
        // already read-write
      }
      execFileSync('umount', [mountDir], { stdio: 'pipe' });
      fs.rmdirSync(mountDir);
    }
  });

  it('a full disk: 503 with the reason while writes fail, 200 once there is room, every window stored once', async () => {
    expect(await healthz()).toMatchObject({ status: 200, body: { store: 'ok' } });
    // Fill the file system to the last byte.
    const filler = path.join(mountDir!, 'filler');
    const fd = fs.openSync(filler, 'w');
    try {
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const small = Buffer.alloc(512, 1);
    try {
      for (;;) fs.writeSync(fd, small);
    } catch {
      // full
    }
    fs.closeSync(fd);

    // More windows than the WAL has room for: their write fails, they stay unacknowledged at the broker.
    let failing: { status: number; body: HealthzBody };
    try {
      await publishWindows('full', 3000);
      failing = await waitFor(
        async () => {
          const h = await healthz();
          return h.status === 503 ? h : undefined;
        },
        '/healthz 503 while the disk is full',
        20_000,
      );
    } catch (err) {
      fs.rmSync(filler);
      throw err;
    }
    try {
      expect(failing.body).toMatchObject({ status: 'unavailable', store: 'failing' });
      expect(failing.body.storeError).toMatch(/full/i);
      expect(storedOf('full')).toBeLessThan(3000);
    } finally {
      fs.rmSync(filler);
    }
    // (bounds for a failure only: under a loaded test run the broker's redelivery can take a while)
    await waitFor(async () => (await healthz()).status === 200, '/healthz 200 once there is room again', 60_000);
    // Waits on the aggregator's own count, not on the file: a reader of the file holds a snapshot, which keeps the
    // WAL from starting over, and on a small disk that alone can fill it again. The file is read once at the end.
    await waitFor(() => agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' }) >= 3000, 'every window stored after the disk had room again', 90_000, 250);
    expect(agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' })).toBe(3000);
    expect(storedOf('full')).toBe(3000);
    expect(await healthz()).toMatchObject({ status: 200, body: { store: 'ok' } });
  }, 240_000);
});
