import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CountsMessage } from '@passant/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AggregatorMetrics, SqliteStore } from '../../src/index.ts';
import type { CountsStore, PutResult } from '../../src/index.ts';
import { BatchWriter } from '../../src/ingest/batch-writer.ts';
import type { WrittenMessage } from '../../src/ingest/batch-writer.ts';
import { countsMessage } from '../helpers/messages.ts';

const T = 1_700_000_040;

describe('BatchWriter', () => {
  let dir: string;
  let real: SqliteStore;
  let calls: number[];
  let failNext: boolean;
  let store: CountsStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-batch-'));
    real = SqliteStore.open(path.join(dir, 'passant.db'));
    calls = [];
    failNext = false;
    // the real store, with a record of the batch sizes it was given
    store = {
      put: async (messages: CountsMessage[], receivedAt: number): Promise<PutResult[]> => {
        calls.push(messages.length);
        if (failNext) {
          failNext = false;
          throw new Error('write failed');
        }
        return real.put(messages, receivedAt);
      },
      ping: () => real.ping(),
      close: () => real.close(),
    };
  });
  afterEach(async () => {
    await real.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes what is submitted in the same turn as one batch, results in order', async () => {
    const written: WrittenMessage[][] = [];
    const writer = new BatchWriter(store, { maxSize: 100, maxDelayMs: 0, metrics: new AggregatorMetrics(), onWritten: (w) => written.push(w) });
    const results = await Promise.all([
      writer.submit(countsMessage('a', T, 1)),
      writer.submit(countsMessage('b', T, 2)),
      writer.submit(countsMessage('a', T, 3)),
    ]);
    expect(results).toEqual(['stored', 'stored', 'duplicate']);
    expect(calls).toEqual([3]);
    expect(written).toHaveLength(1);
    expect(written[0]!.map((w) => w.result)).toEqual(['stored', 'stored', 'duplicate']);
  });

  it('splits at maxSize and keeps writes one after another', async () => {
    const metrics = new AggregatorMetrics();
    const writer = new BatchWriter(store, { maxSize: 4, maxDelayMs: 5, metrics });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => writer.submit(countsMessage(`s${i}`, T, i))));
    expect(results.every((r) => r === 'stored')).toBe(true);
    expect(calls).toEqual([4, 4, 2]);
    expect(metrics.storeBatchMessages.observations).toBe(3);
  });

  it('a failed write rejects every message of its batch and counts the error; later writes go on', async () => {
    const metrics = new AggregatorMetrics();
    const writer = new BatchWriter(store, { maxSize: 10, maxDelayMs: 0, metrics });
    failNext = true;
    const first = await Promise.allSettled([writer.submit(countsMessage('a', T, 1)), writer.submit(countsMessage('b', T, 1))]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(metrics.storeWriteErrors.get()).toBe(1);
    expect(await writer.submit(countsMessage('a', T, 1))).toBe('stored');
  });

  it('flush writes what is pending and waits for it', async () => {
    const writer = new BatchWriter(store, { maxSize: 10, maxDelayMs: 1000, metrics: new AggregatorMetrics() });
    const pending = writer.submit(countsMessage('a', T, 1));
    expect(writer.pending).toBe(1);
    await writer.flush();
    expect(writer.pending).toBe(0);
    expect(await pending).toBe('stored');
    expect(calls).toEqual([1]);
  });
});
