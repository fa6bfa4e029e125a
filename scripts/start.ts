/**
 * `npm start`: Passant on one machine with nothing but Node: an embedded MQTT broker, the aggregator on SQLite
 * under ./data, simulated sensors (three in two zones with the demo config), and the dashboard.
 *
 * Environment: PORT or PASSANT_HTTP_PORT (default 8080), PASSANT_DATA_DIR (default ./data), PASSANT_CONFIG
 * (aggregator config; default config/demo.yaml), PASSANT_MQTT_URL (use your own broker instead of the embedded
 * one), PASSANT_BROKER_PORT (embedded broker, default 1883), PASSANT_BACKFILL_HOURS (default 48),
 * PASSANT_LOG_LEVEL (default warn here: the terminal shows progress lines; the programs' JSON logs at info and
 * below are for running them on their own).
 */
import { ConfigError } from '@passant/aggregator';
import { startDemo } from './demo.ts';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`passant: ${name}=${JSON.stringify(raw)} is not a whole number >= 0\n`);
    process.exit(1);
  }
  return n;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
function logLevelFromEnv(): (typeof LOG_LEVELS)[number] {
  const raw = process.env.PASSANT_LOG_LEVEL?.trim() || 'warn';
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as (typeof LOG_LEVELS)[number];
  process.stderr.write(`passant: PASSANT_LOG_LEVEL=${JSON.stringify(raw)} is not one of ${LOG_LEVELS.join(', ')}\n`);
  process.exit(1);
}

const say = (line: string) => process.stdout.write(`passant: ${line}\n`);
const httpPort = intFromEnv('PASSANT_HTTP_PORT', intFromEnv('PORT', 8080));

let demo: Awaited<ReturnType<typeof startDemo>>;
try {
  demo = await startDemo({
    dataDir: process.env.PASSANT_DATA_DIR?.trim() || 'data',
    configFile: process.env.PASSANT_CONFIG?.trim() || undefined,
    httpPort,
    mqttUrl: process.env.PASSANT_MQTT_URL?.trim() || undefined,
    brokerPort: intFromEnv('PASSANT_BROKER_PORT', 1883),
    backfillHours: intFromEnv('PASSANT_BACKFILL_HOURS', 48),
    logLevel: logLevelFromEnv(),
    env: process.env,
    progress: say,
  });
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`passant: the configuration is not valid:\n${err.message}\n`);
  } else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    process.stderr.write(`passant: port ${httpPort} is in use; set PORT to another port (e.g. PORT=8081 npm start)\n`);
  } else {
    process.stderr.write(`passant: could not start: ${(err as Error).message}\n`);
  }
  process.exit(1);
}

say(`dashboard: ${demo.url.replace('127.0.0.1', 'localhost')}  (Ctrl-C stops everything)`);

let stoppingSince = 0;
async function stop(signal: string): Promise<void> {
  if (stoppingSince !== 0) {
    // A terminal's Ctrl-C reaches every process of the group, and wrappers relay it: a second signal within a
    // moment is the same key press. A later one is a person who does not want to wait.
    if (Date.now() - stoppingSince < 2000) return;
    say('forced stop');
    process.exit(130);
  }
  stoppingSince = Date.now();
  say(`${signal}: stopping sensors, aggregator and broker (Ctrl-C again to force)`);
  await demo.close();
  say('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
