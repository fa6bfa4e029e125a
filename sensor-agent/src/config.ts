/**
 * The sensor agent's configuration: one zod schema, a default and a description for every key.
 *
 * Loading is the shared loader's (@passant/shared/config-loader). Layers, later wins: the schema's defaults <
 * PASSANT_DATA_DIR (moves the outbox) < the config file (PASSANT_CONFIG or `--config FILE`, JSON or YAML) < the
 * environment (PASSANT_<SECTION>_<KEY>, one variable per key, listed by `sensorConfigKeys()`) < overrides.
 * Unset is `undefined` (an absent key; an empty variable is no variable). `loadSensorConfig` reports every
 * problem at once (path, message, source) in the shared `ConfigError`; nothing is connected before the config is
 * valid. This file keeps the schema, the sensor's own checks (the password, readable files) and its key table.
 *
 * Secrets: the MQTT password comes from PASSANT_MQTT_PASSWORD or from the file named by mqtt.passwordFile, never
 * from the config file, and is never logged (`redactSensorConfig`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { SensorIdSchema, TOPIC_BASE, WINDOW_SECONDS_ALLOWED, configEnvName, configSchemaLeaves, isAllowedWindowSeconds, isPlainObject } from '@passant/shared';
import { ConfigError, configLeafType, formatConfigPath, loadConfig, parseConfigObject, type ConfigProblem } from '@passant/shared/config-loader';
import { mqttFileProblems, mqttTlsPairProblems } from '@passant/shared/mqtt-options';

export { ConfigError, type ConfigProblem };

const MQTT_PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:', 'ws:', 'wss:'];

const mqttUrl = z.string().refine(
  (s) => {
    try {
      return MQTT_PROTOCOLS.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  },
  { message: `must be a URL with one of the protocols ${MQTT_PROTOCOLS.join(' ')} (e.g. mqtt://localhost:1883)` },
);

const filePath = z.string().min(1);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const SOURCE_KINDS = ['simulator', 'wifi', 'ble', 'files'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const SimulatorConfigSchema = z
  .strictObject({
    scale: z
      .number()
      .int()
      .min(0)
      .max(5000)
      .default(40)
      .describe('people present at the busiest moment of the week (passers-by and shoppers; 85 % carry a probing phone, 45 % a BLE device; static devices come on top)'),
    seed: z.number().int().min(0).max(0xffffffff).default(1).describe('random seed: the same seed gives the same crowd at the same times'),
    staticDevices: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(4)
      .describe('devices that never leave (printers, PCs, beacons), with universal addresses'),
    rotationMinutes: z
      .number()
      .min(1)
      .max(1440)
      .default(15)
      .describe('how often a phone picks a new randomized Wi-Fi or BLE address, in minutes'),
    utcOffsetHours: z
      .number()
      .min(-14)
      .max(14)
      .optional()
      .describe('time zone of the day curve, hours east of UTC; unset: this machine\'s local time zone'),
    backfillHours: z
      .number()
      .min(0)
      .max(24 * 31)
      .default(0)
      .describe('at start, first simulate this many past hours as fast as possible (fills charts for a demo), then run live'),
  })
  .describe('simulated crowd (source.kind simulator)');

export const SourceConfigSchema = z
  .strictObject({
    kind: z
      .enum(SOURCE_KINDS)
      .default('simulator')
      .describe('where detections come from: simulator (demo), wifi (live monitor-mode capture), ble (live BlueZ), files (capture files, then exit)'),
    iface: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.:-]+$/, 'must be an interface name (letters, digits, _ . : -)')
      .default('wlan0mon')
      .describe('kind wifi: monitor-mode interface to capture probe requests on'),
    channels: z
      .array(z.coerce.number().int().min(1).max(196))
      .max(64)
      .default([])
      .describe('kind wifi: channels to hop over with `iw dev IFACE set channel N` (needs CAP_NET_ADMIN); empty = stay on the channel the interface is on. Env: comma-separated'),
    hopMs: z
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .default(2000)
      .describe('kind wifi with channels: time on each channel before hopping to the next, ms'),
    bleAdapter: z
      .string()
      .regex(/^hci[0-9]{1,3}$/, 'must be a BlueZ adapter name such as hci0')
      .default('hci0')
      .describe('kind ble: BlueZ adapter to read advertisements from'),
    command: z
      .array(z.string().min(1))
      .optional()
      .describe('kind wifi or ble: capture command and its arguments replacing the built-in one (tcpdump for wifi, btmon for ble); it must write a pcap, pcapng or btsnoop stream to stdout; unset: the built-in one. Env: comma-separated'),
    files: z
      .array(filePath)
      .default([])
      .describe('kind files: capture files (pcap, pcapng, btsnoop) read in order; the agent exits when they are done. Env: comma-separated'),
    fileLatenessMs: z
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(60_000)
      .describe('kind files: how far out of time order records may be (merged captures), ms'),
    simulator: SimulatorConfigSchema.prefault({}),
  })
  .describe('the source of detections');

export const MqttConfigSchema = z
  .strictObject({
    url: mqttUrl.default('mqtt://localhost:1883').describe('broker URL: mqtt://host:port, or mqtts:// for TLS'),
    username: z.string().max(256).optional().describe('MQTT user name; unset: none'),
    password: z
      .string()
      .max(4096)
      .optional()
      .describe('MQTT password: only from the environment (PASSANT_MQTT_PASSWORD) or mqtt.passwordFile, never logged; unset: none'),
    passwordFile: filePath.optional().describe('file holding the MQTT password (trailing newline ignored); unset: none'),
    caFile: filePath.optional().describe('PEM file of the CA that signed the broker certificate (TLS); unset: the system CAs'),
    certFile: filePath.optional().describe('PEM client certificate for TLS client authentication; unset: none'),
    keyFile: filePath.optional().describe('PEM private key of certFile; unset: none'),
    rejectUnauthorized: z.boolean().default(true).describe('TLS: refuse a broker whose certificate does not verify'),
    topicBase: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 characters A-Z a-z 0-9 _ -')
      .default(TOPIC_BASE)
      .describe('first level of every topic'),
    reconnectPeriodMs: z.number().int().min(100).max(600_000).default(2000).describe('wait between reconnection attempts, ms'),
    connectTimeoutMs: z.number().int().min(100).max(600_000).default(10_000).describe('time allowed for one connection attempt, ms'),
    keepaliveSeconds: z.number().int().min(5).max(65_535).default(30).describe('MQTT keepalive; the broker publishes the last will after 1.5 times this without traffic'),
    maxInFlight: z.number().int().min(1).max(1000).default(20).describe('counts messages sent but not yet acknowledged (PUBACK) at once'),
  })
  .describe('MQTT connection');

export const OutboxConfigSchema = z
  .strictObject({
    path: filePath
      .default(path.join('data', 'outbox.sqlite'))
      .describe('SQLite file of the on-disk queue of counts messages (default: $PASSANT_DATA_DIR/outbox.sqlite, else ./data/outbox.sqlite); ":memory:" keeps it in memory only (demo, tests)'),
    maxMessages: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .default(10_080)
      .describe('most counts messages kept until an aggregator reports them stored (10080 = a week of minutes); beyond it the oldest are dropped and counted'),
    maxBytes: z
      .number()
      .int()
      .min(65_536)
      .max(1_073_741_824)
      .default(8_388_608)
      .describe('most payload bytes kept in the outbox (8 MiB: a week of minutes is about 2 MiB); beyond it the oldest are dropped and counted'),
  })
  .describe('on-disk queue: every window goes here first and leaves when an aggregator reports it stored');

export const DeliveryConfigSchema = z
  .strictObject({
    retryInitialMs: z
      .number()
      .int()
      .min(100)
      .max(86_400_000)
      .default(60_000)
      .describe('a counts message the broker took (PUBACK) but no aggregator reported stored is sent again after this long, once an aggregator has reported a later message stored (it was lost), ms'),
    retryMaxMs: z
      .number()
      .int()
      .min(100)
      .max(86_400_000)
      .default(3_600_000)
      .describe('the wait before sending such a message again doubles with every try up to this; also the wait when no aggregator reports anything (it is away), ms'),
  })
  .describe('end-to-end delivery: re-sending what no aggregator reported stored (a broker may lose messages after its PUBACK)');

export const LogConfigSchema = z
  .strictObject({
    level: z.enum(LOG_LEVELS).default('info').describe('pino log level; debug adds one line per window (counts only)'),
    statsIntervalSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(300)
      .describe('seconds between stats lines (windows published, queued, dropped); 0 = none'),
  })
  .describe('logging (JSON lines on stdout)');

export const SensorConfigSchema = z
  .strictObject({
    sensorId: z
      .string({ error: (issue) => (issue.input === undefined ? 'required: set sensorId (PASSANT_SENSOR_ID), e.g. s-001; there is no default' : undefined) })
      .pipe(SensorIdSchema)
      .describe("this sensor's id in topics and messages (a-z, 0-9 and '-', up to 64); required, no default (a host name is not an id to publish)"),
    activeUntil: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
      .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'must be a real date')
      .optional()
      .describe("last day this sensor may count (YYYY-MM-DD, to the end of that day UTC; the aggregator's transparency.sensors[].activeUntil should say the same): after it a live sensor stops counting and exits; unset: no end"),
    setupMode: z
      .boolean()
      .default(false)
      .describe('installation only: send the RSSI histogram with every window, to choose rssiFloor; off, the messages leave it out (a signal trace of few devices)'),
    windowSeconds: z
      .number()
      .int()
      .refine(isAllowedWindowSeconds, { message: `must be one of ${WINDOW_SECONDS_ALLOWED.join(', ')}` })
      .default(60)
      .describe('length of a counting window in seconds, aligned to the clock'),
    rssiFloor: z
      .number()
      .int()
      .min(-127)
      .max(20)
      .optional()
      .describe('dBm; frames weaker than this are not counted; unset: count all'),
    latenessMs: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(1500)
      .describe('live sources: how long after its end a window stays open for frames still on their way, ms'),
    shutdownStepTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(120_000)
      .default(5000)
      .describe('time limit of each shutdown step (stop source, flush, send the outbox, offline status, disconnect), ms'),
    source: SourceConfigSchema.prefault({}),
    mqtt: MqttConfigSchema.prefault({}),
    outbox: OutboxConfigSchema.prefault({}),
    delivery: DeliveryConfigSchema.prefault({}),
    log: LogConfigSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.source.kind === 'files' && c.source.files.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['source', 'files'], message: 'source.kind "files" needs at least one file' });
    }
    if (c.delivery.retryMaxMs < c.delivery.retryInitialMs) {
      ctx.addIssue({ code: 'custom', path: ['delivery', 'retryMaxMs'], message: 'must not be below delivery.retryInitialMs' });
    }
    for (const problem of mqttTlsPairProblems(c.mqtt)) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
  });

export type SensorConfig = z.infer<typeof SensorConfigSchema>;
/** What a caller may pass (every key optional, defaults filled by the schema). */
export type SensorConfigInput = z.input<typeof SensorConfigSchema>;
export type SimulatorConfig = z.infer<typeof SimulatorConfigSchema>;
export type SourceConfig = z.infer<typeof SourceConfigSchema>;
export type MqttConfig = z.infer<typeof MqttConfigSchema>;
export type OutboxConfig = z.infer<typeof OutboxConfigSchema>;

/** A configuration key as the README's table shows it. */
export interface ConfigKey {
  /** Dotted path in the config file (`mqtt.url`). */
  path: string;
  /** Environment variable that overrides it. */
  env: string;
  /** JSON Schema type (`string`, `integer`, `number`, `boolean`, `array`). */
  type: string;
  /** Default value (JSON); undefined when computed (see the description). */
  default: unknown;
  description: string;
  /** Allowed values of an enum. */
  values?: string[];
}

/** Environment variables that are not a key of the schema. */
export const EXTRA_ENV = {
  PASSANT_CONFIG: 'path of the config file (JSON or YAML); `--config FILE` on the command line wins',
  PASSANT_DATA_DIR: 'directory for the outbox when outbox.path is not set (systemd: the StateDirectory)',
} as const;

let cachedKeys: ConfigKey[] | null = null;

/** Every leaf key of the schema with its environment variable, type, default and description (for the README). */
export function sensorConfigKeys(): ConfigKey[] {
  cachedKeys ??= configSchemaLeaves(SensorConfigSchema).map(({ path: p, node }) => {
    const { type, values } = configLeafType(node);
    return {
      path: p.join('.'),
      env: configEnvName(p),
      type,
      default: node.default,
      description: node.description ?? '',
      ...(values ? { values } : {}),
    };
  });
  return cachedKeys;
}

export interface LoadSensorConfigOptions {
  /** The environment (main passes process.env). */
  env?: Record<string, string | undefined>;
  /** Command-line arguments after `run`: `--config FILE`. */
  argv?: string[];
  /** Values applied over everything (tests, in-process use). */
  overrides?: SensorConfigInput;
}

/** The password belongs in the environment or a file of its own, never in the config file (it is refused there). */
function refusePasswordInFile(data: Record<string, unknown>, file: string): ConfigProblem[] {
  if (!isPlainObject(data.mqtt) || data.mqtt.password === undefined) return [];
  delete data.mqtt.password;
  return [{ path: 'mqtt.password', message: `do not put the password in the config file ${file}: use PASSANT_MQTT_PASSWORD or mqtt.passwordFile` }];
}

/** The sensor's checks of a parsed configuration: reads the password file; the files it names can be read. */
function checkFiles(config: SensorConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.mqtt.passwordFile !== undefined && config.mqtt.password !== undefined) {
    problems.push({ path: 'mqtt.passwordFile', message: 'give the password either in PASSANT_MQTT_PASSWORD or in mqtt.passwordFile, not both' });
  } else if (config.mqtt.passwordFile !== undefined) {
    try {
      config.mqtt.password = fs.readFileSync(config.mqtt.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push({ path: 'mqtt.passwordFile', message: `cannot read ${config.mqtt.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  problems.push(...mqttFileProblems(config.mqtt));
  if (config.source.kind === 'files') {
    for (const [i, file] of config.source.files.entries()) {
      try {
        fs.accessSync(file, fs.constants.R_OK);
      } catch (err) {
        problems.push({ path: formatConfigPath(['source', 'files', i]), message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      }
    }
  }
  return problems;
}

/**
 * Builds the configuration from defaults, PASSANT_DATA_DIR, the config file, the environment and `overrides`,
 * then reads the password file. Throws a `ConfigError` listing every problem.
 */
export function loadSensorConfig(options: LoadSensorConfigOptions = {}): SensorConfig {
  const env = options.env ?? {};
  const problems: ConfigProblem[] = [];
  let configFile: string | undefined = env.PASSANT_CONFIG?.trim() || undefined;
  try {
    const { values } = parseArgs({ args: options.argv ?? [], options: { config: { type: 'string', short: 'c' } }, strict: true, allowPositionals: false });
    if (values.config !== undefined) configFile = values.config;
  } catch (err) {
    problems.push({ path: 'command line', message: (err as Error).message });
  }
  const dataDir = env.PASSANT_DATA_DIR?.trim();
  return loadConfig(SensorConfigSchema, {
    ...(configFile !== undefined ? { file: configFile } : {}),
    env,
    envKeys: sensorConfigKeys().map((k) => ({ path: k.path.split('.'), env: k.env, type: k.type })),
    ...(dataDir ? { defaults: { outbox: { path: path.join(dataDir, 'outbox.sqlite') } } } : {}),
    ...(options.overrides ? { overrides: options.overrides as Record<string, unknown> } : {}),
    // The YAML parser is loaded only for a YAML file (a few MB of memory a sensor configured by environment never needs).
    parseYaml: (text) => (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text),
    screenFile: refusePasswordInFile,
    check: checkFiles,
    problems,
    subject: 'sensor configuration',
  });
}

/** Parses any input object with the schema (defaults filled); throws a `ConfigError` listing every problem. */
export function parseSensorConfig(input: SensorConfigInput | unknown): SensorConfig {
  return parseConfigObject(SensorConfigSchema, input, { subject: 'sensor configuration' });
}

/** A copy of the config safe to log: the password replaced. */
export function redactSensorConfig(config: SensorConfig): SensorConfig {
  return { ...config, mqtt: { ...config.mqtt, ...(config.mqtt.password !== undefined ? { password: '(set)' } : {}) } };
}
