/**
 * A bare MQTT.js subscriber that only counts (run as a child process: `node --import tsx count-subscriber.ts`):
 * the ceiling of what one Node process can take in at QoS 1, the reference of the ingest benchmark.
 * Settings as JSON in PASSANT_BENCH_SUBSCRIBER: { url, filter, total, clientId, timeoutMs }. It connects like the
 * aggregator (MQTT 3.1.1, persistent session, QoS 1) and writes JSON lines to stdout:
 *   {"event":"ready"}                                 once the subscription is granted
 *   {"event":"done","count":N,"firstMs":..,"lastMs":..}   when `total` messages have arrived, or at the time limit
 * Times are wall-clock milliseconds (performance.timeOrigin + performance.now()).
 */
import mqtt from 'mqtt';

interface SubscriberSettings {
  url: string;
  filter: string;
  total: number;
  clientId: string;
  timeoutMs: number;
}

const settings = JSON.parse(process.env.PASSANT_BENCH_SUBSCRIBER ?? 'null') as SubscriberSettings | null;
if (settings === null) {
  process.stderr.write('count-subscriber: set PASSANT_BENCH_SUBSCRIBER to {"url","filter","total","clientId","timeoutMs"}\n');
  process.exit(2);
}

const nowMs = () => performance.timeOrigin + performance.now();
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

let count = 0;
let firstMs = 0;
let lastMs = 0;
let finished = false;

// The handler is in place before the connection: a persistent session's queued messages may arrive right after
// CONNACK, before an `await connectAsync(...)` would resume.
const client = mqtt.connect(settings.url, {
  clientId: settings.clientId,
  clean: false,
  protocolVersion: 4,
  reconnectPeriod: 0,
});
client.on('message', () => {
  const t = nowMs();
  if (count === 0) firstMs = t;
  lastMs = t;
  count++;
  if (count >= settings.total) void finish();
});
client.on('error', (err) => {
  process.stderr.write(`count-subscriber: ${err.message}\n`);
  process.exit(1);
});
const limit = setTimeout(() => void finish(), settings.timeoutMs);

async function finish(): Promise<void> {
  if (finished) return;
  finished = true;
  clearTimeout(limit);
  say({ event: 'done', count, firstMs, lastMs });
  await client.endAsync(true);
}

await new Promise<void>((resolve) => client.once('connect', () => resolve()));
const granted = await client.subscribeAsync(settings.filter, { qos: 1 });
if (granted.some((g) => g.qos === 128)) {
  process.stderr.write(`count-subscriber: subscription to ${settings.filter} refused\n`);
  process.exit(1);
}
say({ event: 'ready' });
process.on('SIGTERM', () => void finish());
