/**
 * A small metrics registry written out in the Prometheus text format (version 0.0.4). Counters, gauges and
 * histograms with fixed label names; label values come from code, never from input, so cardinality is bounded.
 */

type Labels = Record<string, string>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

interface Metric {
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  /** The current value for exactly these labels (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${formatNumber(value)}`);
    return lines;
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  private collect: (() => { labels: Labels; value: number }[]) | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  set(value: number, labels: Labels = {}): void {
    this.values.set(labelText(labels), { labels, value });
  }

  get(labels: Labels = {}): number | undefined {
    return this.values.get(labelText(labels))?.value;
  }

  /** Computes the values when metrics are read (replaces set values). */
  onCollect(collect: () => { labels: Labels; value: number }[]): void {
    this.collect = collect;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    const values = this.collect ? this.collect() : [...this.values.values()];
    for (const { labels, value } of values) lines.push(`${this.name}${labelText(labels)} ${formatNumber(value)}`);
    return lines;
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++;
  }

  get observations(): number {
    return this.count;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket{le="${formatNumber(le)}"} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`);
    lines.push(`${this.name}_sum ${formatNumber(this.sum)}`);
    lines.push(`${this.name}_count ${this.count}`);
    return lines;
  }
}

/** Every metric the aggregator exports. */
export class AggregatorMetrics {
  readonly ingestMessages = new Counter(
    'passant_ingest_messages_total',
    'Counts messages by result (stored, duplicate, rejected) and reason (none unless rejected).',
  );
  readonly statusMessages = new Counter(
    'passant_ingest_status_messages_total',
    'Sensor status messages by result (accepted, rejected) and reason.',
  );
  readonly storeWriteErrors = new Counter('passant_store_write_errors_total', 'Store writes that failed (the messages are not acknowledged).');
  readonly storeWriteSeconds = new Histogram(
    'passant_store_write_seconds',
    'Duration of one store write (one batch, one transaction).',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  readonly storeBatchMessages = new Histogram('passant_store_batch_messages', 'Messages per store write.', [1, 2, 5, 10, 50, 100, 500, 1000]);
  readonly ingestUnacked = new Gauge(
    'passant_ingest_unacked_messages',
    'QoS 1 messages received whose PUBACK is held until their store write commits.',
  );
  readonly mqttConnected = new Gauge('passant_mqtt_connected', '1 while the MQTT connection is up, else 0.');
  readonly mqttConnects = new Counter('passant_mqtt_connects_total', 'Successful MQTT connections (the first and every reconnect).');
  readonly sensors = new Gauge('passant_sensors', 'Sensors seen, by state (online, offline, unknown) from their status messages.');
  readonly httpRequests = new Counter('passant_http_requests_total', 'HTTP requests by route and status code.');
  readonly eventClients = new Gauge('passant_http_event_clients', 'Open Server-Sent Events connections.');
  // No label per zone or by released/suppressed: whoever may read /metrics must not learn the below-k bit of a
  // zone it may not read.
  readonly releasedCells = new Counter('passant_live_cells_total', 'Base cells sent as live updates (released and suppressed together).');

  constructor() {
    this.mqttConnected.set(0);
    this.eventClients.set(0);
  }

  /** The Prometheus text exposition of every metric. */
  render(): string {
    const metrics: Metric[] = [
      this.ingestMessages,
      this.statusMessages,
      this.storeWriteErrors,
      this.storeWriteSeconds,
      this.storeBatchMessages,
      this.ingestUnacked,
      this.mqttConnected,
      this.mqttConnects,
      this.sensors,
      this.httpRequests,
      this.eventClients,
      this.releasedCells,
    ];
    return `${metrics.flatMap((m) => m.render()).join('\n')}\n`;
  }
}
