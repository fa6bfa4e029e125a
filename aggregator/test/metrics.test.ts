/**
 * GET /metrics as Prometheus reads it: a real scraper (VictoriaMetrics' Prometheus-compatible scraper, Debian
 * package `victoria-metrics`) scrapes a running aggregator with a privacy token every second. Every metric name
 * the aggregator writes must arrive (a line the parser refused would be missing), prom-client's default process
 * metrics among them, and the stored-messages counter must move when a counts message is stored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { topics } from '@passant/shared';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { startVictoriaMetrics, type TestServer } from '@passant/test-helpers/influx';
import { requireTool } from '@passant/test-helpers/tools';
import { waitFor } from '@passant/test-helpers/wait';
import { removeDir, startTestAggregator, type TestAggregator } from './helpers/aggregator.ts';
import { countsMessage, minuteAgo } from './helpers/messages.ts';

const hasVictoriaMetrics = requireTool('victoria-metrics', 'victoria-metrics');

/** Makes what VictoriaMetrics scraped searchable now (it otherwise buffers new samples for some seconds). */
async function flush(vm: TestServer): Promise<void> {
  const res = await fetch(`${vm.url}/internal/force_flush`, { signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`force_flush: HTTP ${res.status}`);
}

/** One value of an instant PromQL query (`/api/v1/query`), or null when the query matches nothing. */
async function instant(vm: TestServer, query: string): Promise<number | null> {
  await flush(vm);
  const res = await fetch(`${vm.url}/api/v1/query?${new URLSearchParams({ query })}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } };
  if (!res.ok || body.status !== 'success') throw new Error(`query ${query}: HTTP ${res.status}`);
  const [first] = body.data.result;
  return first === undefined ? null : Number(first.value[1]);
}

/** The metric names VictoriaMetrics holds for the scrape job. */
async function scrapedNames(vm: TestServer): Promise<Set<string>> {
  await flush(vm);
  const res = await fetch(`${vm.url}/api/v1/label/__name__/values?${new URLSearchParams({ 'match[]': '{job="passant"}' })}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { data: string[] };
  return new Set(body.data);
}

/** The metric name of every sample line of a text exposition. */
function sampleNames(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]),
  );
}

describe.skipIf(!hasVictoriaMetrics)('GET /metrics scraped by a Prometheus-compatible scraper', () => {
  let broker: TestBroker;
  let agg: TestAggregator;
  let vm: TestServer;

  beforeAll(async () => {
    broker = await startAedes();
    agg = await startTestAggregator(broker.url);
    await agg.mqttReady;
    const token = agg.tokens.create({ role: 'privacy' }).token;
    const target = new URL(agg.url).host;
    const scrapeConfig = path.join(agg.dataDir, 'scrape.yaml');
    fs.writeFileSync(
      scrapeConfig,
      [
        'scrape_configs:',
        '  - job_name: passant',
        '    scrape_interval: 1s',
        '    metrics_path: /metrics',
        '    authorization:',
        `      credentials: ${token}`,
        '    static_configs:',
        `      - targets: ["${target}"]`,
        '',
      ].join('\n'),
    );
    vm = await startVictoriaMetrics({ args: [`-promscrape.config=${scrapeConfig}`, '-promscrape.config.strictParse=true'] });
  }, 60_000);

  afterAll(async () => {
    await vm?.stop();
    await agg?.close();
    if (agg) removeDir(agg.dataDir);
    await broker?.close();
  });

  it('carries every metric the aggregator writes, prom-client process metrics included, and counts a stored message', async () => {
    await waitFor(async () => (await instant(vm, 'up{job="passant"}')) === 1, 'a successful scrape', 20_000);

    // What the aggregator writes now: its own metrics and prom-client's default ones.
    const text = await agg.metrics.render();
    const names = sampleNames(text);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(names, name).toContain(name);
    }
    expect(names).toContain('passant_mqtt_connected');
    expect(text).toContain('# TYPE passant_ingest_messages_total counter');

    // Every name arrives at the scraper: none of the lines was refused by its parser.
    const scraped = await waitFor(async () => {
      const have = await scrapedNames(vm);
      return [...names].every((n) => have.has(n)) ? have : null;
    }, 'every metric name scraped', 20_000).catch(async () => scrapedNames(vm));
    expect([...names].filter((n) => !scraped.has(n))).toEqual([]);
    expect(await instant(vm, 'passant_mqtt_connected{job="passant"}')).toBe(1);

    // The stored-messages counter moves when a counts message is stored, and the scraper sees it.
    const stored = 'sum(passant_ingest_messages_total{job="passant",result="stored"}) or vector(0)';
    expect(await instant(vm, stored)).toBe(0);
    const publisher = await mqtt.connectAsync(broker.url, { clientId: 'metrics-test-publisher', reconnectPeriod: 0 });
    try {
      await publisher.publishAsync(topics.sensorCounts('s1'), JSON.stringify(countsMessage('s1', minuteAgo(2), 7, 3)), { qos: 1 });
    } finally {
      await publisher.endAsync();
    }
    await waitFor(async () => (await instant(vm, stored)) === 1, 'the scraped stored counter at 1', 20_000);
    expect(agg.metrics.ingestMessages.get({ result: 'stored', reason: 'none' })).toBe(1);
    expect(await agg.metrics.render()).toContain('passant_ingest_messages_total{result="stored",reason="none"} 1');
  }, 60_000);
});
