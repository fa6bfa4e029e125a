/** Starting an aggregator for tests: temp data dir, captured logs, cleanup. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, startAggregator } from '../../src/index.ts';
import type { AggregatorConfigInput, ReleaseStore, RunningAggregator } from '../../src/index.ts';

export interface TestAggregator extends RunningAggregator {
  dataDir: string;
  /** Every log line written so far (JSON text). */
  logText(): string;
}

export function makeDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'passant-agg-test-'));
}

export async function startTestAggregator(
  brokerUrl: string,
  overrides: AggregatorConfigInput = {},
  options: { dataDir?: string; store?: ReleaseStore; now?: () => number; configFile?: string; configWatchDebounceMs?: number } = {},
): Promise<TestAggregator> {
  const dataDir = options.dataDir ?? makeDataDir();
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger('debug', sink);
  const config: AggregatorConfigInput = {
    // Tests of the API, access, ingest and stores use a few minutes of synthetic data: with the static baseline on,
    // every sensor would still be learning (its cells hidden). The baseline and the rule on moving devices are tested
    // in release/people-rule.test.ts, and with the production default end to end in test/pipeline.test.ts.
    baseline: { enabled: false },
    // Many tests publish windows of fixed dates (November 2023) so their expectations stay fixed; the door refuses
    // windows older than retention.minuteDays (window_too_old), so tests keep minute data for ten years.
    retention: { minuteDays: 3660, ...overrides.retention },
    ...overrides,
    aggregator: { id: 'test-agg', shutdownStepTimeoutMs: 2000, ...overrides.aggregator },
    mqtt: { url: brokerUrl, reconnectPeriodMs: 200, ...overrides.mqtt },
    http: { port: 0, dashboardDir: path.join(dataDir, 'no-dashboard'), ...overrides.http },
    data: { dir: dataDir, ...overrides.data },
    log: { level: 'debug', statsIntervalSeconds: 0, ...overrides.log },
  };
  const startOptions: Parameters<typeof startAggregator>[1] = { logger };
  if (options.store) startOptions.store = options.store;
  if (options.now) startOptions.now = options.now;
  if (options.configFile) startOptions.configFile = options.configFile;
  if (options.configWatchDebounceMs !== undefined) startOptions.configWatchDebounceMs = options.configWatchDebounceMs;
  const running = await startAggregator(config, startOptions);
  return Object.assign(running, { dataDir, logText: () => lines.join('') });
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
