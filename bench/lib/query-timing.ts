/**
 * Query timing: how fast the aggregator's API answers a dashboard's two common series requests on a year of data
 * (100 sensors in 10 zones): an hourly series for a year (read from hour rollups) and a minute series for a day
 * (read from frozen zone-minutes). The store is built by `buildQueryStore`; the aggregator runs as a child
 * process (its bin) on it with every zone public, and is asked over HTTP (fetch, keep-alive) like a browser
 * would: one warm-up round over every zone, then `rounds` timed rounds; the median and the 90th percentile of
 * the timed requests (request sent to JSON body parsed) are reported.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMosquitto } from '@passant/test-helpers/mosquitto';
import { spawnAggregator, type AggregatorProcess } from './aggregator-process.ts';
import { buildQueryStore } from './query-data.ts';

const DAY = 86_400;

export interface QueryTimingOptions {
  zoneCount: number;
  sensorsPerZone: number;
  days: number;
  minuteDays: number;
  rounds: number;
  k: number;
}

export interface QueryTimingResult {
  label: string;
  goalMs: number;
  medianMs: number;
  p90Ms: number;
  samples: number;
  buckets: number;
}

export interface QueryTimingReport {
  buildSeconds: number;
  cells: number;
  rollups: number;
  dbBytes: number;
  results: QueryTimingResult[];
}

interface SeriesBody {
  t: number[];
  devices: (number | null)[];
  suppressed: number[];
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

async function timeSeries(url: string): Promise<{ ms: number; body: SeriesBody }> {
  const started = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as SeriesBody & { detail?: string };
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}: ${body.detail ?? ''}`);
  return { ms, body };
}

export async function runQueryTiming(options: QueryTimingOptions): Promise<QueryTimingReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-bench-query-'));
  const broker = await startMosquitto({ persistence: false });
  let aggregator: AggregatorProcess | undefined;
  try {
    const endDay = Math.floor(Date.now() / 1000 / DAY) * DAY;
    const built = performance.now();
    const data = await buildQueryStore({
      file: path.join(dir, 'passant.db'),
      zoneCount: options.zoneCount,
      sensorsPerZone: options.sensorsPerZone,
      days: options.days,
      minuteDays: options.minuteDays,
      endDay,
      k: options.k,
    });
    const buildSeconds = (performance.now() - built) / 1000;
    const dbBytes = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('passant.db'))
      .reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
    const configFile = path.join(dir, 'config.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        k: options.k,
        zones: data.zones,
        auth: { public: { zones: 'all' } },
        retention: { minuteDays: options.minuteDays },
      }),
    );
    aggregator = await spawnAggregator({ id: 'bench-query', mqttUrl: broker.url, dataDir: dir, logLevel: 'warn', env: { PASSANT_CONFIG: configFile } });

    const yesterday = endDay - DAY;
    const cases = [
      { label: 'hourly series for a year (8,760 buckets)', goalMs: 50, query: `from=${endDay - 365 * DAY}&to=${endDay}&step=3600`, buckets: 365 * 24 },
      { label: 'minute series for a day (1,440 buckets)', goalMs: 10, query: `from=${yesterday}&to=${endDay}&step=60`, buckets: 1440 },
    ];
    const results: QueryTimingResult[] = [];
    for (const c of cases) {
      const urls = data.zones.map((z) => `${aggregator!.url}/api/v1/zones/${z.id}/series?${c.query}`);
      for (const url of urls) {
        const { body } = await timeSeries(url); // warm-up, and a check of what comes back
        if (body.t.length !== c.buckets) throw new Error(`${url}: ${body.t.length} buckets, expected ${c.buckets}`);
        if (!body.devices.some((d) => d !== null)) throw new Error(`${url}: no released value`);
      }
      const samples: number[] = [];
      for (let round = 0; round < options.rounds; round++) {
        for (const url of urls) samples.push((await timeSeries(url)).ms);
      }
      samples.sort((a, b) => a - b);
      results.push({ label: c.label, goalMs: c.goalMs, medianMs: quantile(samples, 0.5), p90Ms: quantile(samples, 0.9), samples: samples.length, buckets: c.buckets });
    }
    return { buildSeconds, cells: data.cells, rollups: data.rollups, dbBytes, results };
  } finally {
    await aggregator?.stop();
    await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
