/**
 * The offline outbox (DESIGN.md 3.5): an on-disk queue of counts messages. Every window goes here first and
 * leaves only once the broker has acknowledged it (PUBACK), so counts survive a broker that is away, a lost
 * connection and a killed process (kill -9): on restart the agent sends what is left before new windows.
 *
 * A better-sqlite3 file in WAL mode with synchronous=FULL: a committed message is on disk. The queue is bounded:
 * beyond `maxMessages` the oldest are dropped and counted. It also keeps the next sequence number, so `seq` stays
 * monotonic across restarts, and the number of messages dropped so far.
 *
 * Only counts messages (already validated against the strict schema) are ever written here: no address, no hash.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export interface OutboxOptions {
  /** SQLite file; ':memory:' keeps the queue in memory (no persistence: demos and tests). */
  path: string;
  /** Most messages kept; beyond it the oldest are dropped. */
  maxMessages: number;
}

export interface OutboxEntry {
  /** Queue position (increasing; never reused). */
  id: number;
  seq: number;
  /** The message as sent: JSON text. */
  payload: string;
}

/** Builds the payload for the given sequence number; throws to refuse (the number is then not used). */
export type PayloadBuilder = (seq: number) => string;

/** Format of the file; bumped when the tables change. */
const SCHEMA_VERSION = 1;

export class OutboxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutboxError';
  }
}

export class Outbox {
  readonly path: string;
  readonly maxMessages: number;
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<[number, string]>;
  readonly #peek: Database.Statement<[number, number], OutboxEntry>;
  readonly #remove: Database.Statement<[number]>;
  readonly #dropOldest: Database.Statement<[number]>;
  readonly #setMeta: Database.Statement<[{ key: string; value: number }]>;
  readonly #enqueueTx: (builders: PayloadBuilder[], onError: (err: unknown, index: number) => void) => number[];
  readonly #removeTx: (ids: number[]) => void;
  #size: number;
  #nextSeq: number;
  #droppedTotal: number;
  #droppedNow = 0;
  #closed = false;

  private constructor(opts: OutboxOptions, db: Database.Database) {
    this.path = opts.path;
    this.maxMessages = opts.maxMessages;
    this.#db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, payload TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta (key, value) VALUES ('nextSeq', 0), ('dropped', 0);
    `);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === 0) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    else if (version !== SCHEMA_VERSION) {
      throw new OutboxError(`outbox ${opts.path} has format ${version}, this version reads format ${SCHEMA_VERSION}`);
    }
    const meta = (key: string) => (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: number }).value;
    this.#nextSeq = meta('nextSeq');
    this.#droppedTotal = meta('dropped');
    this.#size = (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;

    this.#insert = db.prepare('INSERT INTO messages (seq, payload) VALUES (?, ?)');
    this.#peek = db.prepare('SELECT id, seq, payload FROM messages WHERE id > ? ORDER BY id LIMIT ?');
    this.#remove = db.prepare('DELETE FROM messages WHERE id = ?');
    this.#dropOldest = db.prepare('DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT ?)');
    this.#setMeta = db.prepare('UPDATE meta SET value = @value WHERE key = @key');

    this.#enqueueTx = db.transaction((builders: PayloadBuilder[], onError: (err: unknown, index: number) => void) => {
      const seqs: number[] = [];
      let seq = this.#nextSeq;
      let added = 0;
      for (const [i, build] of builders.entries()) {
        let payload: string;
        try {
          payload = build(seq);
        } catch (err) {
          onError(err, i);
          continue;
        }
        this.#insert.run(seq, payload);
        seqs.push(seq);
        seq++;
        added++;
      }
      let dropped = 0;
      const over = this.#size + added - this.maxMessages;
      if (over > 0) dropped = this.#dropOldest.run(over).changes;
      this.#setMeta.run({ key: 'nextSeq', value: seq });
      if (dropped > 0) this.#setMeta.run({ key: 'dropped', value: this.#droppedTotal + dropped });
      // Only now, with every statement done, update the in-memory mirror (a throw above rolls all back).
      this.#nextSeq = seq;
      this.#size += added - dropped;
      this.#droppedTotal += dropped;
      this.#droppedNow += dropped;
      return seqs;
    });
    this.#removeTx = db.transaction((ids: number[]) => {
      let n = 0;
      for (const id of ids) n += this.#remove.run(id).changes;
      this.#size -= n;
    });
  }

  /** Opens (creating it and its directory when needed) the outbox file. */
  static open(opts: OutboxOptions): Outbox {
    if (!(Number.isInteger(opts.maxMessages) && opts.maxMessages >= 1)) {
      throw new OutboxError(`outbox maxMessages must be an integer >= 1, got ${opts.maxMessages}`);
    }
    let db: Database.Database;
    try {
      if (opts.path !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(opts.path)), { recursive: true, mode: 0o750 });
      db = new Database(opts.path);
      if (opts.path !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    } catch (err) {
      throw new OutboxError(`cannot open the outbox ${opts.path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return new Outbox(opts, db);
    } catch (err) {
      db.close();
      if (err instanceof OutboxError) throw err;
      throw new OutboxError(`cannot use the outbox ${opts.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Messages waiting. */
  get size(): number {
    return this.#size;
  }

  /** Sequence number the next message gets. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Messages dropped (queue full) over the outbox's whole life, across restarts. */
  get droppedTotal(): number {
    return this.#droppedTotal;
  }

  /** Messages dropped since this process opened the outbox. */
  get dropped(): number {
    return this.#droppedNow;
  }

  /**
   * Adds messages in one transaction (one fsync): each builder gets the next sequence number and returns the
   * payload; one that throws is skipped (reported through `onError`) without using a number. Drops the oldest
   * messages beyond `maxMessages`. Returns the sequence numbers used.
   */
  enqueueMany(builders: PayloadBuilder[], onError: (err: unknown, index: number) => void = () => undefined): number[] {
    this.#assertOpen();
    if (builders.length === 0) return [];
    return this.#enqueueTx(builders, onError);
  }

  /** Adds one message; returns its sequence number. Throws what the builder throws. */
  enqueue(build: PayloadBuilder): number {
    let error: unknown;
    const [seq] = this.enqueueMany([build], (err) => {
      error = err;
    });
    if (seq === undefined) throw error;
    return seq;
  }

  /** Up to `limit` messages after queue position `afterId`, oldest first. */
  peek(afterId: number, limit: number): OutboxEntry[] {
    this.#assertOpen();
    return this.#peek.all(afterId, limit);
  }

  /** Removes acknowledged messages (one transaction); ids that are already gone are ignored. */
  remove(ids: readonly number[]): void {
    this.#assertOpen();
    if (ids.length > 0) this.#removeTx([...ids]);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw new OutboxError('the outbox is closed');
  }
}
