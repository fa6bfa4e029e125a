/**
 * Calibrations of zones (manual counts and the model fitted from them), kept in their own SQLite file
 * (`<data.dir>/calibrations.db`), so they work whatever the counts store is (SQLite or InfluxDB) and are never
 * touched by its retention: every calibration is kept, with its date and fit statistics. The manual counts are
 * kept with it (period and number of people: no device, no address), so a fit can be checked or redone.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Radio } from '@passant/shared';
import type Database from 'better-sqlite3';
import { OwnDatabase, openMigratedDatabase } from '../store/sqlite-wal.ts';
import type { CalibrationForEstimate } from './estimate.ts';
import type { CalibrationKind, FitStatistics, ModelParameters, PointsUsage } from './model.ts';

/** One manual count as given, and what the fit found in its period. */
export interface StoredCount {
  from: number;
  to: number;
  people: number;
  /** Released minutes of the period the fit used (0: the count was not used). */
  minutesUsed: number;
  /** Suppressed minutes in the period (never read). */
  minutesHidden: number;
}

/** A fitted calibration as stored and as the API shows it. */
export interface Calibration extends CalibrationForEstimate {
  zoneId: string;
  model: string;
  interval: { method: string; confidence: number };
  statistics: FitStatistics;
  points: PointsUsage;
  counts: StoredCount[];
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE calibrations (
     id       TEXT    PRIMARY KEY,
     zone     TEXT    NOT NULL,
     kind     TEXT    NOT NULL CHECK (kind IN ('present', 'passers')),
     radio    TEXT    NOT NULL CHECK (radio IN ('wifi', 'ble')),
     created  INTEGER NOT NULL,
     body     TEXT    NOT NULL
   );
   CREATE INDEX calibrations_zone ON calibrations (zone, created)`,
];

interface Row {
  id: string;
  zone: string;
  kind: CalibrationKind;
  radio: Radio;
  created: number;
  body: string;
}

type Body = Omit<Calibration, 'id' | 'zoneId' | 'kind' | 'radio' | 'created'>;

function toCalibration(row: Row): Calibration {
  const body = JSON.parse(row.body) as Body;
  return { id: row.id, zoneId: row.zone, kind: row.kind, radio: row.radio, created: row.created, ...body };
}

export class CalibrationStore extends OwnDatabase {

  /** Opens (and creates, readable by the owner only) the calibration database. */
  static open(file: string): CalibrationStore {
    const db = openMigratedDatabase(file, MIGRATIONS, 'the calibration database');
    return new CalibrationStore(file, db);
  }

  /** Stores a fitted calibration under a new id and returns it. */
  add(input: Omit<Calibration, 'id'>): Calibration {
    const { zoneId, kind, radio, created, ...body } = input;
    for (let attempt = 0; ; attempt++) {
      const id = randomBytes(6).toString('hex');
      try {
        this.db.prepare('INSERT INTO calibrations (id, zone, kind, radio, created, body) VALUES (?, ?, ?, ?, ?, ?)').run(id, zoneId, kind, radio, created, JSON.stringify(body));
        return { id, ...input };
      } catch (err) {
        if (attempt >= 3 || (err as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw err;
      }
    }
  }

  /** A zone's calibrations, oldest first (in the order they were added). */
  list(zoneId: string): Calibration[] {
    return this.db.prepare<[string], Row>('SELECT id, zone, kind, radio, created, body FROM calibrations WHERE zone = ? ORDER BY created, rowid').all(zoneId).map(toCalibration);
  }
}

/** The calibration database of a data folder. */
export function calibrationsFileOf(dataDir: string): string {
  return path.join(dataDir, 'calibrations.db');
}
