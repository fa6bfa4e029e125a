/**
 * A running Passant stack for cross-program tests: the same `startDemo` that `npm start` runs (aedes, the
 * aggregator on a real SQLite file, simulated sensors, the dashboard), in a temp dir, on free ports, silent.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDemo, type Demo } from '../../scripts/demo.ts';

export interface StackOptions {
  k?: number;
  zones?: { id: string; name: string; sensors: string[] }[];
  sites?: { id: string; name: string; zones: string[] }[];
  backfillHours?: number;
  /** External broker URL (e.g. a test's Mosquitto); default an embedded aedes broker on a free port. */
  mqttUrl?: string;
  /** Runs before the sensors start (e.g. to subscribe a recorder to everything they publish). */
  beforeSensors?: (mqttUrl: string) => Promise<void>;
  /** More aggregator config on top. */
  overrides?: Record<string, unknown>;
}

export interface Stack extends Demo {
  baseUrl: string;
  dataDir: string;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-stack-'));
  const overrides: Record<string, unknown> = { ...options.overrides };
  if (options.k !== undefined) overrides.k = options.k;
  if (options.zones !== undefined) overrides.zones = options.zones;
  if (options.sites !== undefined) overrides.sites = options.sites;
  else if (options.zones !== undefined) overrides.sites = [];
  try {
    const demo = await startDemo({
      dataDir,
      httpPort: 0,
      brokerPort: 0,
      mqttUrl: options.mqttUrl,
      backfillHours: options.backfillHours ?? 6,
      logLevel: 'silent',
      beforeSensors: options.beforeSensors,
      overrides,
    });
    return {
      ...demo,
      baseUrl: demo.url,
      dataDir,
      close: async () => {
        await demo.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
