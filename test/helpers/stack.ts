/**
 * A running Passant stack for cross-program tests: the same `startDemo` that `npm start` runs (aedes, the
 * aggregator on a real SQLite file, simulated sensors, the dashboard), in a temp dir, on free ports, silent.
 *
 * The one fixture for "broker + sensors + aggregator". A test that needs another broker passes its URL (a
 * Mosquitto with logins: `mqtt` and `sensorMqtt`), one that publishes itself or starts its sensors later turns
 * the simulated ones off (`simulatedSensors: false`, then `startSensor`), one that reads a store built beforehand
 * hands its folder over (`dataDir`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Agent } from '@passant/sensor-agent';
import { startDemo, startDemoSensor, type Demo, type DemoSensorMqtt } from '../../scripts/demo.ts';

export interface StackOptions {
  k?: number;
  zones?: { id: string; name: string; sensors: string[]; owners?: string[] }[];
  sites?: { id: string; name: string; zones: string[] }[];
  backfillHours?: number;
  /** External broker URL (e.g. a test's Mosquitto); default an embedded aedes broker on a free port. */
  mqttUrl?: string;
  /** The aggregator's broker login (and CA file, for TLS) on the external broker. */
  mqtt?: { username?: string; password?: string; caFile?: string; shareGroup?: string; reconnectPeriodMs?: number };
  /** Each sensor's broker login on the external broker (and the CA file, for TLS). */
  sensorMqtt?: (sensorId: string) => DemoSensorMqtt;
  /** false: no simulated sensor starts with the stack (the test publishes itself, or calls `startSensor`). */
  simulatedSensors?: boolean;
  /** A data folder the test made and filled (e.g. a store of weeks of data); the stack removes it on close. Default: a new one. */
  dataDir?: string;
  /** Runs before the sensors start (e.g. to subscribe a recorder to everything they publish). */
  beforeSensors?: (mqttUrl: string) => Promise<void>;
  /** More aggregator config on top. */
  overrides?: Record<string, unknown>;
}

export interface Stack extends Demo {
  baseUrl: string;
  dataDir: string;
  /** The aggregator's store file (SQLite). */
  storeFile: string;
  /** Starts one more simulated sensor on the stack's broker (its login from `sensorMqtt`); closed with the stack. */
  startSensor(sensorId: string, options?: { scale?: number; seed?: number }): Promise<Agent>;
}

/** The town most dashboard tests show: the site Centrum of Winkelstraat (two sensors) and Markt (one). */
export const TOWN = {
  zones: [
    { id: 'winkelstraat', name: 'Winkelstraat', sensors: ['s-001', 's-002'] },
    { id: 'markt', name: 'Markt', sensors: ['s-003'] },
  ],
  sites: [{ id: 'centrum', name: 'Centrum', zones: ['winkelstraat', 'markt'] }],
};

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'passant-stack-'));
  const overrides: Record<string, unknown> = { ...options.overrides };
  if (options.k !== undefined) overrides.k = options.k;
  if (options.zones !== undefined) overrides.zones = options.zones;
  if (options.sites !== undefined) overrides.sites = options.sites;
  else if (options.zones !== undefined) overrides.sites = [];
  if (options.mqtt !== undefined) overrides.mqtt = { ...(overrides.mqtt as object | undefined), ...options.mqtt };
  const backfillHours = options.backfillHours ?? 6;
  try {
    const demo = await startDemo({
      dataDir,
      httpPort: 0,
      brokerPort: 0,
      mqttUrl: options.mqttUrl,
      backfillHours,
      logLevel: 'silent',
      beforeSensors: options.beforeSensors,
      simulatedSensors: options.simulatedSensors,
      sensorMqtt: options.sensorMqtt,
      overrides,
    });
    const later: Agent[] = [];
    return {
      ...demo,
      baseUrl: demo.url,
      dataDir,
      storeFile: path.join(dataDir, 'passant.db'),
      startSensor: async (sensorId, sensor = {}) => {
        const agent = await startDemoSensor({
          sensorId,
          mqttUrl: demo.mqttUrl,
          dataDir,
          scale: sensor.scale ?? 40,
          seed: sensor.seed ?? 1000 + demo.agents.length + later.length,
          backfillHours,
          logLevel: 'silent',
          mqtt: options.sensorMqtt?.(sensorId),
        });
        later.push(agent);
        return agent;
      },
      close: async () => {
        // Sensors first (as the demo closes its own), then the demo: sensors, aggregator, broker.
        await Promise.allSettled(later.map((agent) => agent.close()));
        await demo.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
