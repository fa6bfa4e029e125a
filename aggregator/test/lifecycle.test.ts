/**
 * One lifecycle: the aggregator's parts stop in reverse order on shutdown and when a later part fails to start. A
 * start that fails at the last step (its HTTP port is taken) leaves nothing behind: no database file open (read
 * from /proc/self/fd, the process's real open files), no MQTT connection (the broker's own count of clients).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';
import { makeDataDir, removeDir, startTestAggregator } from './helpers/aggregator.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startAedes();
});
afterAll(async () => {
  await broker?.close();
});

/** Files below `dir` this process holds open. */
function openFilesIn(dir: string): string[] {
  const real = fs.realpathSync(dir);
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(path.join('/proc/self/fd', fd));
      if (target.startsWith(real + path.sep)) out.push(path.relative(real, target));
    } catch {
      // closed while we looked
    }
  }
  return out.sort();
}

describe.skipIf(!fs.existsSync('/proc/self/fd'))('the aggregator lifecycle', () => {
  it('a start that fails at its last step closes every database and the MQTT connection it opened', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const dataDir = makeDataDir();
    try {
      await expect(startTestAggregator(broker.url, { zones: [{ id: 'front', name: 'Front', sensors: ['s1'] }], http: { port, host: '127.0.0.1' } }, { dataDir })).rejects.toThrow(
        /cannot listen on 127\.0\.0\.1/,
      );
      // the databases it made are there, and none is open any more
      expect(fs.readdirSync(dataDir).filter((f) => f.endsWith('.db')).sort()).toEqual(expect.arrayContaining(['calibrations.db', 'events.db', 'invitations.db', 'passant.db', 'tokens.db']));
      expect(openFilesIn(dataDir)).toEqual([]);
      await waitFor(() => broker.aedes.connectedClients === 0, 'the failed aggregator to leave the broker', 5000);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
      removeDir(dataDir);
    }
  });

  it('a clean stop closes every database and leaves the broker', async () => {
    const agg = await startTestAggregator(broker.url, { zones: [{ id: 'front', name: 'Front', sensors: ['s1'] }] });
    try {
      await agg.mqttReady;
      expect(openFilesIn(agg.dataDir).length).toBeGreaterThan(0);
      expect(broker.aedes.connectedClients).toBeGreaterThan(0);
    } finally {
      await agg.close();
    }
    expect(openFilesIn(agg.dataDir)).toEqual([]);
    await waitFor(() => broker.aedes.connectedClients === 0, 'the aggregator to leave the broker', 5000);
    removeDir(agg.dataDir);
  });
});
