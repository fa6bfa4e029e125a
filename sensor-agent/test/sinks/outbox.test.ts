import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox, OutboxError } from '../../src/sinks/outbox.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-outbox-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const payload = (seq: number) => JSON.stringify({ seq });

describe('Outbox', () => {
  it('queues in order, removes the messages reported stored (by seq), and keeps seq and messages across a reopen', () => {
    const file = path.join(dir, 'sub', 'outbox.sqlite');
    const a = Outbox.open({ path: file, maxMessages: 100 });
    expect(a.enqueueMany([payload, payload, payload])).toEqual([0, 1, 2]);
    const rows = a.peek(0, 10);
    expect(rows.map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(rows.map((r) => JSON.parse(r.payload).seq)).toEqual([0, 1, 2]);
    expect(a.peek(rows[0]!.id, 1).map((r) => r.seq)).toEqual([1]);
    expect(a.removeSeqs([0, 999])).toEqual([rows[0]!.id]);
    expect(a.size).toBe(2);
    expect(a.get(rows[0]!.id)).toBeUndefined();
    expect(a.get(rows[1]!.id)?.seq).toBe(1);
    a.close();
    expect(() => a.peek(0, 1)).toThrow(OutboxError);

    const b = Outbox.open({ path: file, maxMessages: 100 });
    expect(b.size).toBe(2);
    expect(b.nextSeq).toBe(3);
    expect(b.enqueue(payload)).toBe(3);
    expect(b.peek(0, 10).map((r) => r.seq)).toEqual([1, 2, 3]);
    b.close();
  });

  it('is bounded: drops the oldest and counts the drops, also across a reopen', () => {
    const file = path.join(dir, 'outbox.sqlite');
    const a = Outbox.open({ path: file, maxMessages: 5 });
    for (let i = 0; i < 8; i++) a.enqueue(payload);
    expect(a.size).toBe(5);
    expect(a.dropped).toBe(3);
    expect(a.droppedTotal).toBe(3);
    expect(a.peek(0, 10).map((r) => r.seq)).toEqual([3, 4, 5, 6, 7]);
    // One batch larger than the bound keeps its newest messages.
    a.enqueueMany(Array.from({ length: 7 }, () => payload));
    expect(a.peek(0, 10).map((r) => r.seq)).toEqual([10, 11, 12, 13, 14]);
    expect(a.droppedTotal).toBe(10);
    a.close();
    const b = Outbox.open({ path: file, maxMessages: 5 });
    expect(b.dropped).toBe(0);
    expect(b.droppedTotal).toBe(10);
    b.close();
  });

  it('is bounded in bytes as well as rows: drops the oldest, keeps the newest, counts the drops', () => {
    const big = (seq: number) => JSON.stringify({ seq, pad: 'x'.repeat(990) }); // about 1 KB each
    const a = Outbox.open({ path: path.join(dir, 'outbox.sqlite'), maxMessages: 1000, maxBytes: 10_000 });
    for (let i = 0; i < 25; i++) a.enqueue(big);
    expect(a.size).toBe(9);
    expect(a.bytes).toBeLessThanOrEqual(10_000);
    expect(a.droppedTotal).toBe(16);
    expect(a.peek(0, 100).map((r) => r.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24]);
    a.close();
    const b = Outbox.open({ path: path.join(dir, 'outbox.sqlite'), maxMessages: 1000, maxBytes: 10_000 });
    expect(b.bytes).toBe(9 * Buffer.byteLength(big(16)));
    b.close();
  });

  it('physically forgets: a freed message is not in the file any more, and the file gives the space back', () => {
    const file = path.join(dir, 'outbox.sqlite');
    const marker = (seq: number) => JSON.stringify({ seq, marker: `CANARY-${String(seq).padStart(6, '0')}`, pad: 'y'.repeat(400) });
    const a = Outbox.open({ path: file, maxMessages: 100_000 });
    const seqs = a.enqueueMany(Array.from({ length: 3000 }, () => marker));
    const db = new Database(file);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const fullSize = fs.statSync(file).size;
    a.removeSeqs(seqs);
    expect(a.size).toBe(0);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    a.close();
    const bytes = fs.readFileSync(file);
    expect(bytes.includes('CANARY-')).toBe(false);
    expect(fs.existsSync(file + '-wal') && fs.readFileSync(file + '-wal').includes('CANARY-')).toBe(false);
    expect(fs.statSync(file).size).toBeLessThan(fullSize / 10);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('auto_vacuum', { simple: true })).toBe(2); // incremental
    check.close();
  });

  it('opens a format-1 file (before the seq index and auto_vacuum) and converts it, its messages kept', () => {
    const file = path.join(dir, 'outbox.sqlite');
    const old = new Database(file);
    old.exec(`
      CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, payload TEXT NOT NULL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO meta (key, value) VALUES ('nextSeq', 2), ('dropped', 0);
      INSERT INTO messages (seq, payload) VALUES (0, '{"seq":0}'), (1, '{"seq":1}');
      PRAGMA user_version = 1;
    `);
    old.close();
    const a = Outbox.open({ path: file, maxMessages: 10 });
    expect(a.size).toBe(2);
    expect(a.nextSeq).toBe(2);
    expect(a.removeSeqs([1])).toHaveLength(1);
    a.close();
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(2);
    expect(check.pragma('auto_vacuum', { simple: true })).toBe(2);
    check.close();
  });

  it('a builder that throws uses no sequence number and adds nothing', () => {
    const a = Outbox.open({ path: ':memory:', maxMessages: 10 });
    const errors: number[] = [];
    const seqs = a.enqueueMany(
      [
        payload,
        () => {
          throw new Error('refused');
        },
        payload,
      ],
      (_err, i) => errors.push(i),
    );
    expect(seqs).toEqual([0, 1]);
    expect(errors).toEqual([1]);
    expect(a.size).toBe(2);
    expect(() =>
      a.enqueue(() => {
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(a.nextSeq).toBe(2);
    a.close();
  });

  it('writes durably (WAL, synchronous FULL) and only the messages and counters', () => {
    const file = path.join(dir, 'outbox.sqlite');
    const a = Outbox.open({ path: file, maxMessages: 10 });
    a.enqueue(payload);
    a.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
    expect(tables).toEqual(['messages', 'meta']);
    expect(db.prepare('SELECT key FROM meta ORDER BY key').pluck().all()).toEqual(['dropped', 'lastWindowStart', 'nextSeq']);
    db.close();
  });

  it('refuses a bound below 1 and an unusable path with a clear error', () => {
    expect(() => Outbox.open({ path: ':memory:', maxMessages: 0 })).toThrow(/maxMessages/);
    expect(() => Outbox.open({ path: ':memory:', maxMessages: 5, maxBytes: 0 })).toThrow(/maxBytes/);
    const notADir = path.join(dir, 'file');
    fs.writeFileSync(notADir, 'x');
    expect(() => Outbox.open({ path: path.join(notADir, 'outbox.sqlite'), maxMessages: 5 })).toThrow(/cannot open the outbox/);
  });
});
