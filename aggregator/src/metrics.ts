/**
 * The aggregator's metrics, exposed by prom-client in the Prometheus text format: its own counters, gauges and
 * histograms (fixed label names; label values come from code, never from input, so cardinality is bounded), and
 * prom-client's default Node process metrics (CPU, memory, event loop lag, GC, handles, open files).
 *
 * Each aggregator has its own registry (a test process runs several); the process metrics are one registry per
 * process, collected once and merged in when read. The small classes below keep the interface the call sites use
 * (`inc`, `set`, `observe`, and synchronous reads for the audit totals and the stats log line, which prom-client's
 * own `get()` offers only as a promise).
 */
import client from 'prom-client';

type Labels = Record<string, string>;

/** A stable key for a label set (the order of the keys does not matter). */
function keyOf(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class Counter {
  private readonly metric: client.Counter;
  private readonly values = new Map<string, number>();

  constructor(registry: client.Registry, name: string, help: string, labelNames: readonly string[] = []) {
    this.metric = new client.Counter({ name, help, labelNames, registers: [registry] });
  }

  inc(labels: Labels = {}, by = 1): void {
    this.metric.inc(labels, by);
    const key = keyOf(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  /** The current value for exactly these labels (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels)) ?? 0;
  }
}

export class Gauge {
  private readonly metric: client.Gauge;
  private readonly values = new Map<string, number>();
  private collectValues: (() => { labels: Labels; value: number }[]) | undefined;

  constructor(registry: client.Registry, name: string, help: string, labelNames: readonly string[] = []) {
    const self = this;
    this.metric = new client.Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        if (self.collectValues === undefined) return;
        this.reset();
        for (const { labels, value } of self.collectValues()) this.set(labels, value);
      },
    });
  }

  set(value: number, labels: Labels = {}): void {
    this.metric.set(labels, value);
    this.values.set(keyOf(labels), value);
  }

  get(labels: Labels = {}): number | undefined {
    return this.values.get(keyOf(labels));
  }

  /** Computes the values when metrics are read (replaces set values). */
  onCollect(collect: () => { labels: Labels; value: number }[]): void {
    this.collectValues = collect;
  }
}

export class Histogram {
  private readonly metric: client.Histogram;
  private count = 0;

  constructor(registry: client.Registry, name: string, help: string, buckets: readonly number[]) {
    this.metric = new client.Histogram({ name, help, buckets: [...buckets], registers: [registry] });
  }

  observe(value: number): void {
    this.metric.observe(value);
    this.count++;
  }

  get observations(): number {
    return this.count;
  }
}

let processRegistry: client.Registry | undefined;

/** prom-client's default metrics of this Node process, registered once however many aggregators it runs. */
function processMetrics(): client.Registry {
  if (processRegistry === undefined) {
    processRegistry = new client.Registry();
    client.collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Every metric the aggregator exports. */
export class AggregatorMetrics {
  /** This aggregator's own metrics (without the process metrics). */
  readonly registry = new client.Registry();
  /** The Content-Type of `render()`'s text. */
  readonly contentType: string = this.registry.contentType;

  readonly ingestMessages = new Counter(
    this.registry,
    'passant_ingest_messages_total',
    'Counts messages by result (stored, duplicate, rejected) and reason (none unless rejected).',
    ['result', 'reason'],
  );
  readonly statusMessages = new Counter(
    this.registry,
    'passant_ingest_status_messages_total',
    'Sensor status messages by result (accepted, rejected) and reason.',
    ['result', 'reason'],
  );
  readonly storeWriteErrors = new Counter(this.registry, 'passant_store_write_errors_total', 'Store writes that failed (the messages are not acknowledged).');
  readonly storeWriteSeconds = new Histogram(
    this.registry,
    'passant_store_write_seconds',
    'Duration of one store write (one batch, one transaction).',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  readonly storeBatchMessages = new Histogram(this.registry, 'passant_store_batch_messages', 'Messages per store write.', [1, 2, 5, 10, 50, 100, 500, 1000]);
  readonly ingestUnacked = new Gauge(
    this.registry,
    'passant_ingest_unacked_messages',
    'QoS 1 messages received whose PUBACK is held until their store write commits.',
  );
  readonly mqttConnected = new Gauge(this.registry, 'passant_mqtt_connected', '1 while the MQTT connection is up, else 0.');
  readonly mqttConnects = new Counter(this.registry, 'passant_mqtt_connects_total', 'Successful MQTT connections (the first and every reconnect).');
  readonly sensors = new Gauge(this.registry, 'passant_sensors', 'Sensors seen, by state (online, offline, unknown) from their status messages.', ['state']);
  readonly httpRequests = new Counter(this.registry, 'passant_http_requests_total', 'HTTP requests by route and status code.', ['route', 'status']);
  readonly eventClients = new Gauge(this.registry, 'passant_http_event_clients', 'Open Server-Sent Events connections.');
  // No label per zone or by released/suppressed: whoever may read /metrics must not learn the below-k bit of a
  // zone it may not read.
  readonly releasedCells = new Counter(this.registry, 'passant_live_cells_total', 'Base cells sent as live updates (released and suppressed together).');

  constructor() {
    this.mqttConnected.set(0);
    this.eventClients.set(0);
  }

  /** The Prometheus text exposition of every metric: this aggregator's and the process's. */
  async render(): Promise<string> {
    return client.Registry.merge([this.registry, processMetrics()]).metrics();
  }
}
