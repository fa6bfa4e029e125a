/**
 * Publishes a counts load as fast as the broker takes it (run as a child process: `node --import tsx
 * publish-counts.ts`). Settings as JSON in PASSANT_BENCH_PUBLISHER:
 *   { url, sensorCount, windowsPerSensor, lastWindowStart, prefix, clients, windowSize }
 * The payloads are generated before any client connects; message i goes to client i % clients; each client
 * keeps at most `windowSize` QoS 1 publishes unacknowledged. Writes one JSON line to stdout when done:
 *   {"event":"done","published":N,"publishMs":..}
 */
import mqtt from 'mqtt';
import { makeCountsLoad } from './counts-payloads.ts';

interface PublisherSettings {
  url: string;
  sensorCount: number;
  windowsPerSensor: number;
  lastWindowStart: number;
  prefix: string;
  clients: number;
  windowSize: number;
}

const settings = JSON.parse(process.env.PASSANT_BENCH_PUBLISHER ?? 'null') as PublisherSettings | null;
if (settings === null) {
  process.stderr.write('publish-counts: set PASSANT_BENCH_PUBLISHER (see the file header)\n');
  process.exit(2);
}

const load = makeCountsLoad(settings);
const clients = await Promise.all(
  Array.from({ length: settings.clients }, (_, i) =>
    mqtt.connectAsync(settings.url, { clientId: `bench-publisher-${process.pid}-${i}`, clean: true, reconnectPeriod: 0 }),
  ),
);

const started = performance.now();
await Promise.all(
  clients.map(async (client, c) => {
    const mine = load.filter((_, i) => i % settings.clients === c);
    for (let i = 0; i < mine.length; i += settings.windowSize) {
      await Promise.all(mine.slice(i, i + settings.windowSize).map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
    }
  }),
);
const publishMs = performance.now() - started;
await Promise.all(clients.map((client) => client.endAsync()));
process.stdout.write(`${JSON.stringify({ event: 'done', published: load.length, publishMs })}\n`);
