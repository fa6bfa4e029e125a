/**
 * Events: named periods an admin marks for zones and sites (a market, street works, a promotion), so that charts
 * can show them and a comparison can take their period. Kept in their own SQLite file (`<data.dir>/events.db`,
 * readable by the owner only), whatever the counts store is. An event holds a name, a period, the zones and sites
 * it is about and an optional note: no count, nothing about a device.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ID_PATTERN } from '@passant/shared';
import type Database from 'better-sqlite3';
import { OwnDatabase, openMigratedDatabase } from '../store/sqlite-wal.ts';

export interface MarkedEvent {
  id: string;
  name: string;
  /** Unix seconds, start of the period. */
  from: number;
  /** Unix seconds, end of the period (exclusive). */
  to: number;
  zones: string[];
  sites: string[];
  note: string | null;
  /** Unix seconds. */
  createdAt: number;
}

export type NewEvent = Omit<MarkedEvent, 'id' | 'createdAt'>;

export const MAX_EVENT_NAME = 100;
export const MAX_EVENT_NOTE = 1000;
/** The longest period an event may span: ten years. */
export const MAX_EVENT_SECONDS = 10 * 366 * 86_400;
const MAX_TARGETS = 200;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     id       TEXT    PRIMARY KEY,
     name     TEXT    NOT NULL,
     t_from   INTEGER NOT NULL,
     t_to     INTEGER NOT NULL,
     zones    TEXT    NOT NULL DEFAULT '[]',
     sites    TEXT    NOT NULL DEFAULT '[]',
     note     TEXT,
     created  INTEGER NOT NULL
   );
   CREATE INDEX events_period ON events (t_from, t_to)`,
];

interface Row {
  id: string;
  name: string;
  t_from: number;
  t_to: number;
  zones: string;
  sites: string;
  note: string | null;
  created: number;
}

function ids(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function toEvent(row: Row): MarkedEvent {
  return { id: row.id, name: row.name, from: row.t_from, to: row.t_to, zones: ids(row.zones), sites: ids(row.sites), note: row.note, createdAt: row.created };
}

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * Problems of a new event, each a sentence (empty: fine). `known` says whether a zone or site exists; an unknown one
 * is refused so that an event never names what is not there.
 */
export function checkNewEvent(input: NewEvent, known: { zone(id: string): boolean; site(id: string): boolean }): string[] {
  const problems: string[] = [];
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_EVENT_NAME || CONTROL.test(name) || /[\r\n]/.test(name)) {
    problems.push(`name must be 1 to ${MAX_EVENT_NAME} characters on one line`);
  }
  if (input.note !== null && (input.note.length > MAX_EVENT_NOTE || CONTROL.test(input.note))) problems.push(`note may be at most ${MAX_EVENT_NOTE} characters of text`);
  if (!(input.to > input.from)) problems.push('to must be after from');
  else if (input.to - input.from > MAX_EVENT_SECONDS) problems.push('an event may span at most ten years');
  if (input.zones.length + input.sites.length === 0) problems.push('give at least one zone or site the event is about');
  if (input.zones.length + input.sites.length > MAX_TARGETS) problems.push(`at most ${MAX_TARGETS} zones and sites per event`);
  for (const id of input.zones) if (!ID_PATTERN.test(id) || !known.zone(id)) problems.push(`no zone ${JSON.stringify(id.slice(0, 80))}`);
  for (const id of input.sites) if (!ID_PATTERN.test(id) || !known.site(id)) problems.push(`no site ${JSON.stringify(id.slice(0, 80))}`);
  return problems;
}

export class EventStore extends OwnDatabase {

  /** Opens (and creates, readable by the owner only) the events database. */
  static open(file: string): EventStore {
    return new EventStore(file, openMigratedDatabase(file, MIGRATIONS, 'the events database'));
  }

  /** Stores an event (checked by the caller: checkNewEvent) under a new id. */
  add(input: NewEvent, now = Math.floor(Date.now() / 1000)): MarkedEvent {
    const event = { ...input, name: input.name.trim(), zones: [...new Set(input.zones)], sites: [...new Set(input.sites)], createdAt: Math.floor(now) };
    for (let attempt = 0; ; attempt++) {
      const id = randomBytes(6).toString('hex');
      try {
        this.db
          .prepare('INSERT INTO events (id, name, t_from, t_to, zones, sites, note, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(id, event.name, event.from, event.to, JSON.stringify(event.zones), JSON.stringify(event.sites), event.note, event.createdAt);
        return { id, ...event };
      } catch (err) {
        if (attempt >= 3 || (err as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw err;
      }
    }
  }

  /** Every event, or those overlapping [from, to), by start, then in the order they were marked. */
  list(range: { from?: number; to?: number } = {}): MarkedEvent[] {
    const rows = this.db
      .prepare<[number, number], Row>('SELECT * FROM events WHERE t_to > ? AND t_from < ? ORDER BY t_from, created, rowid')
      .all(range.from ?? Number.MIN_SAFE_INTEGER, range.to ?? Number.MAX_SAFE_INTEGER);
    return rows.map(toEvent);
  }

  get(id: string): MarkedEvent | undefined {
    const row = this.db.prepare<[string], Row>('SELECT * FROM events WHERE id = ?').get(id);
    return row ? toEvent(row) : undefined;
  }

  /** Deletes an event; false when there was none. */
  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM events WHERE id = ?').run(id).changes > 0;
  }
}

/** The events database of a data folder. */
export function eventsFileOf(dataDir: string): string {
  return path.join(dataDir, 'events.db');
}
