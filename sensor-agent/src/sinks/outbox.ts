/**
 * The offline outbox: an on-disk queue of counts messages. Every window goes here first and leaves only once the
 * aggregator has said it is stored (a `stored` acknowledgement naming its seq, see mqtt-publisher.ts), so counts
 * survive a broker that is away, a broker that crashes after its PUBACK, a lost connection and a killed process
 * (kill -9): on restart the agent sends what is left before new windows.
 *
 * A better-sqlite3 file in WAL mode with synchronous=FULL: a committed message is on disk. The queue is bounded in
 * rows (`maxMessages`) and in payload bytes (`maxBytes`): beyond either the oldest are dropped and counted. It
 * also keeps the next sequence number, so `seq` stays monotonic across restarts, and the number of messages
 * dropped so far. Deleted rows are overwritten (secure_delete) and their pages given back to the file system
 * (incremental auto_vacuum): a freed message is gone from the file, not only from the table.
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
  /** Most payload bytes kept; beyond it the oldest are dropped. Default: no byte bound. */
  maxBytes?: number;
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

/** Format of the file; bumped when the tables change. 2: index on seq (freed by seq), incremental auto_vacuum. */
const SCHEMA_VERSION = 2;
/** Free pages tolerated before they are given back to the file system. */
const VACUUM_FREE_PAGES = 32;

export class OutboxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutboxError';
  }
}

export class Outbox {
  readonly path: string;
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<[number, string]>;
  readonly #peek: Database.Statement<[number, number], OutboxEntry>;
  readonly #get: Database.Statement<[number], OutboxEntry>;
  readonly #removeSeq: Database.Statement<[number], { id: number; bytes: number }>;
  readonly #oldest: Database.Statement<[], { id: number; bytes: number }>;
  readonly #dropUpTo: Database.Statement<[number]>;
  readonly #setMeta: Database.Statement<[{ key: string; value: number }]>;
  readonly #enqueueTx: (builders: PayloadBuilder[], onError: (err: unknown, index: number) => void, lastWindowStart: number) => number[];
  readonly #removeTx: (seqs: number[]) => number[];
  #size: number;
  #bytes: number;
  #nextSeq: number;
  #droppedTotal: number;
  #droppedNow = 0;
  /** Start of the newest window ever queued (Unix seconds), -1 when none. */
  #lastWindowStart: number;
  #closed = false;

  private constructor(opts: OutboxOptions, db: Database.Database) {
    this.path = opts.path;
    this.maxMessages = opts.maxMessages;
    this.maxBytes = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
    this.#db = db;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new OutboxError(`outbox ${opts.path} has format ${version}, this version reads format ${SCHEMA_VERSION} and older`);
    }
    db.exec(`
      CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, payload TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta (key, value) VALUES ('nextSeq', 0), ('dropped', 0), ('lastWindowStart', -1);
      CREATE INDEX IF NOT EXISTS messages_seq ON messages (seq);
    `);
    if (version === 1 && (db.pragma('auto_vacuum', { simple: true }) as number) !== 2 && opts.path !== ':memory:') {
      // Format 1 had no auto_vacuum: switching needs one full VACUUM, which cannot change it in WAL mode.
      db.pragma('journal_mode = DELETE');
      db.pragma('auto_vacuum = INCREMENTAL');
      db.exec('VACUUM');
      db.pragma('journal_mode = WAL');
    }
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    const meta = (key: string) => (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: number }).value;
    this.#nextSeq = meta('nextSeq');
    this.#droppedTotal = meta('dropped');
    this.#lastWindowStart = meta('lastWindowStart');
    const totals = db.prepare('SELECT count(*) AS n, coalesce(sum(length(CAST(payload AS BLOB))), 0) AS bytes FROM messages').get() as { n: number; bytes: number };
    this.#size = totals.n;
    this.#bytes = totals.bytes;

    this.#insert = db.prepare('INSERT INTO messages (seq, payload) VALUES (?, ?)');
    this.#peek = db.prepare('SELECT id, seq, payload FROM messages WHERE id > ? ORDER BY id LIMIT ?');
    this.#get = db.prepare('SELECT id, seq, payload FROM messages WHERE id = ?');
    this.#removeSeq = db.prepare('DELETE FROM messages WHERE seq = ? RETURNING id, length(CAST(payload AS BLOB)) AS bytes');
    this.#oldest = db.prepare('SELECT id, length(CAST(payload AS BLOB)) AS bytes FROM messages ORDER BY id');
    this.#dropUpTo = db.prepare('DELETE FROM messages WHERE id <= ?');
    this.#setMeta = db.prepare('UPDATE meta SET value = @value WHERE key = @key');

    this.#enqueueTx = db.transaction((builders: PayloadBuilder[], onError: (err: unknown, index: number) => void, lastWindowStart: number) => {
      const seqs: number[] = [];
      let seq = this.#nextSeq;
      let added = 0;
      let addedBytes = 0;
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
        addedBytes += Buffer.byteLength(payload);
      }
      // The oldest go first while either bound is exceeded (the newest message itself is always kept).
      let dropped = 0;
      let droppedBytes = 0;
      let overRows = this.#size + added - this.maxMessages;
      let overBytes = this.#bytes + addedBytes - this.maxBytes;
      if (overRows > 0 || overBytes > 0) {
        let lastId = -1;
        const total = this.#size + added;
        for (const row of this.#oldest.iterate()) {
          if ((overRows <= 0 && overBytes <= 0) || dropped >= total - 1) break;
          lastId = row.id;
          dropped++;
          droppedBytes += row.bytes;
          overRows--;
          overBytes -= row.bytes;
        }
        if (lastId >= 0) this.#dropUpTo.run(lastId);
      }
      this.#setMeta.run({ key: 'nextSeq', value: seq });
      if (dropped > 0) this.#setMeta.run({ key: 'dropped', value: this.#droppedTotal + dropped });
      const newest = Math.max(this.#lastWindowStart, lastWindowStart);
      if (newest !== this.#lastWindowStart) this.#setMeta.run({ key: 'lastWindowStart', value: newest });
      // Only now, with every statement done, update the in-memory mirror (a throw above rolls all back).
      this.#nextSeq = seq;
      this.#size += added - dropped;
      this.#bytes += addedBytes - droppedBytes;
      this.#droppedTotal += dropped;
      this.#droppedNow += dropped;
      this.#lastWindowStart = newest;
      return seqs;
    });
    this.#removeTx = db.transaction((seqs: number[]) => {
      const ids: number[] = [];
      let bytes = 0;
      for (const seq of seqs) {
        const row = this.#removeSeq.get(seq);
        if (row === undefined) continue;
        ids.push(row.id);
        bytes += row.bytes;
      }
      this.#size -= ids.length;
      this.#bytes -= bytes;
      return ids;
    });
  }

  /** Opens (creating it and its directory when needed) the outbox file. */
  static open(opts: OutboxOptions): Outbox {
    if (!(Number.isInteger(opts.maxMessages) && opts.maxMessages >= 1)) {
      throw new OutboxError(`outbox maxMessages must be an integer >= 1, got ${opts.maxMessages}`);
    }
    if (opts.maxBytes !== undefined && !(Number.isInteger(opts.maxBytes) && opts.maxBytes >= 1)) {
      throw new OutboxError(`outbox maxBytes must be an integer >= 1, got ${opts.maxBytes}`);
    }
    let db: Database.Database;
    try {
      if (opts.path !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(opts.path)), { recursive: true, mode: 0o750 });
      db = new Database(opts.path);
      // Before anything else: a new file takes auto_vacuum only while it is empty (WAL mode would write its header).
      db.pragma('auto_vacuum = INCREMENTAL');
      if (opts.path !== ':memory:') db.pragma('journal_mode = WAL');
      // The WAL file is cut back to this after each checkpoint, so old pages do not linger in it either.
      db.pragma('journal_size_limit = 1048576');
      db.pragma('synchronous = FULL');
      // A deleted message is overwritten with zeros, not left in a free page.
      db.pragma('secure_delete = ON');
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

  /** Payload bytes of the messages waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Start (Unix seconds) of the newest window ever queued, across restarts; null when none. A restarted agent
   * does not count a window again that an earlier run already queued (a simulator's backfill).
   */
  get lastWindowStart(): number | null {
    return this.#lastWindowStart < 0 ? null : this.#lastWindowStart;
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
   * messages beyond `maxMessages` or `maxBytes`. `lastWindowStart`: the newest window among them (remembered,
   * see the getter). Returns the sequence numbers used.
   */
  enqueueMany(builders: PayloadBuilder[], onError: (err: unknown, index: number) => void = () => undefined, lastWindowStart = -1): number[] {
    this.#assertOpen();
    if (builders.length === 0) return [];
    const droppedBefore = this.#droppedNow;
    const seqs = this.#enqueueTx(builders, onError, lastWindowStart);
    if (this.#droppedNow > droppedBefore) this.#vacuum();
    return seqs;
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

  /** The message at queue position `id`, or undefined when it is gone (stored, dropped). */
  get(id: number): OutboxEntry | undefined {
    this.#assertOpen();
    return this.#get.get(id);
  }

  /**
   * Removes the messages with these sequence numbers (stored by the aggregator) in one transaction, and gives
   * free pages back to the file system; seqs that are already gone are ignored. Returns the queue positions removed.
   */
  removeSeqs(seqs: readonly number[]): number[] {
    this.#assertOpen();
    if (seqs.length === 0) return [];
    const ids = this.#removeTx([...seqs]);
    if (ids.length > 0) this.#vacuum();
    return ids;
  }

  /** Gives free pages back to the file system once there are more than a few. */
  #vacuum(): void {
    if ((this.#db.pragma('freelist_count', { simple: true }) as number) > VACUUM_FREE_PAGES) this.#db.pragma('incremental_vacuum');
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
