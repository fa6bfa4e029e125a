/**
 * The sensor agent's configuration: one zod schema, a default and a description for every key.
 *
 * Layers, later wins: the schema's defaults < PASSANT_DATA_DIR (moves the outbox) < the config file
 * (PASSANT_CONFIG or `--config FILE`, JSON or YAML) < the environment (PASSANT_<SECTION>_<KEY>, one variable per
 * key, listed by `sensorConfigKeys()`). `loadSensorConfig` reports every problem at once (path: message) in a
 * `ConfigError`; nothing is connected before the config is valid.
 *
 * Secrets: the MQTT password comes from PASSANT_MQTT_PASSWORD or from the file named by mqtt.passwordFile, never
 * from the config file, and is never logged (`redactSensorConfig`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { z } from 'zod';
import {
  SensorIdSchema,
  TOPIC_BASE,
  WINDOW_SECONDS_ALLOWED,
  configEnvName,
  configSchemaLeaves,
  type ConfigSchemaNode,
  isAllowedWindowSeconds,
  isPlainObject,
  mergeConfigLayers,
  setConfigPath,
} from '@passant/shared';

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
      .nullable()
      .default(null)
      .describe('time zone of the day curve, hours east of UTC; null = this machine\'s local time zone'),
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
      .nullable()
      .default(null)
      .describe('kind wifi or ble: capture command and its arguments replacing the built-in one (tcpdump for wifi, btmon for ble); it must write a pcap, pcapng or btsnoop stream to stdout. Env: comma-separated'),
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
    username: z.string().max(256).nullable().default(null).describe('MQTT user name; null = none'),
    password: z
      .string()
      .max(4096)
      .nullable()
      .default(null)
      .describe('MQTT password: only from the environment (PASSANT_MQTT_PASSWORD) or mqtt.passwordFile, never logged'),
    passwordFile: filePath.nullable().default(null).describe('file holding the MQTT password (trailing newline ignored)'),
    caFile: filePath.nullable().default(null).describe('PEM file of the CA that signed the broker certificate (TLS)'),
    certFile: filePath.nullable().default(null).describe('PEM client certificate for TLS client authentication'),
    keyFile: filePath.nullable().default(null).describe('PEM private key of certFile'),
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
      .nullable()
      .default(null)
      .describe("last day this sensor may count (YYYY-MM-DD, to the end of that day UTC; the aggregator's transparency.sensors[].activeUntil should say the same): after it a live sensor stops counting and exits; null = no end"),
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
      .nullable()
      .default(null)
      .describe('dBm; frames weaker than this are not counted (null = count all)'),
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
    if ((c.mqtt.certFile === null) !== (c.mqtt.keyFile === null)) {
      ctx.addIssue({ code: 'custom', path: ['mqtt', 'keyFile'], message: 'mqtt.certFile and mqtt.keyFile go together' });
    }
  });

export type SensorConfig = z.infer<typeof SensorConfigSchema>;
/** What a caller may pass (every key optional, defaults filled by the schema). */
export type SensorConfigInput = z.input<typeof SensorConfigSchema>;
export type SimulatorConfig = z.infer<typeof SimulatorConfigSchema>;
export type SourceConfig = z.infer<typeof SourceConfigSchema>;
export type MqttConfig = z.infer<typeof MqttConfigSchema>;
export type OutboxConfig = z.infer<typeof OutboxConfigSchema>;

/** One problem with the configuration. */
export interface ConfigProblem {
  /** Dotted key path (`mqtt.url`), or the variable or file the problem is in. */
  path: string;
  message: string;
}

/** The configuration is unusable; `problems` lists every problem found. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], options?: { cause?: unknown }) {
    super(`invalid sensor configuration:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`, options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A configuration key as the README's table shows it. */
export interface ConfigKey {
  /** Dotted path in the config file (`mqtt.url`). */
  path: string;
  /** Environment variable that overrides it. */
  env: string;
  /** JSON Schema type (`string`, `integer`, `number`, `boolean`, `array`, with `|null` when null is allowed). */
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

function leafType(node: ConfigSchemaNode): { type: string; values?: string[] } {
  if (node.anyOf) {
    const parts = node.anyOf.map((n) => leafType(n));
    return { type: parts.map((p) => p.type).join('|'), values: parts.find((p) => p.values)?.values };
  }
  return { type: node.type ?? 'any', values: node.enum?.map(String) };
}

let cachedKeys: ConfigKey[] | null = null;

/** Every leaf key of the schema with its environment variable, type, default and description (for the README). */
export function sensorConfigKeys(): ConfigKey[] {
  cachedKeys ??= configSchemaLeaves(SensorConfigSchema).map(({ path: p, node }) => {
    const { type, values } = leafType(node);
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

/** Converts one environment value to the key's type; returns the string unchanged when it does not convert (zod then says why). */
function fromEnv(raw: string, type: string): unknown {
  const v = raw.trim();
  const types = type.split('|');
  if (types.includes('null') && (v === '' || v.toLowerCase() === 'null' || v.toLowerCase() === 'none')) return null;
  if (types.includes('array')) return v === '' ? [] : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (types.includes('integer') || types.includes('number')) return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v) ? Number(v) : raw;
  if (types.includes('boolean')) {
    if (/^(true|1|yes|on)$/i.test(v)) return true;
    if (/^(false|0|no|off)$/i.test(v)) return false;
    return raw;
  }
  return raw;
}

function getPath(source: unknown, keyPath: string[]): unknown {
  let node = source;
  for (const k of keyPath) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[k];
  }
  return node;
}

export interface LoadSensorConfigOptions {
  /** The environment (main passes process.env). */
  env?: Record<string, string | undefined>;
  /** Command-line arguments after `run`: `--config FILE`. */
  argv?: string[];
  /** Values applied over everything (tests, in-process use). */
  overrides?: SensorConfigInput;
}

/**
 * Builds the configuration from defaults, PASSANT_DATA_DIR, the config file and the environment, then reads the
 * password file. Throws a `ConfigError` listing every problem.
 */
export function loadSensorConfig(options: LoadSensorConfigOptions = {}): SensorConfig {
  const env = options.env ?? {};
  const problems: ConfigProblem[] = [];
  let layered: Record<string, unknown> = {};

  let configFile: string | undefined = env.PASSANT_CONFIG || undefined;
  try {
    const { values } = parseArgs({ args: options.argv ?? [], options: { config: { type: 'string', short: 'c' } }, strict: true, allowPositionals: false });
    if (values.config !== undefined) configFile = values.config;
  } catch (err) {
    problems.push({ path: 'command line', message: (err as Error).message });
  }

  if (env.PASSANT_DATA_DIR) layered = mergeConfigLayers(layered, { outbox: { path: path.join(env.PASSANT_DATA_DIR, 'outbox.sqlite') } });

  if (configFile !== undefined) {
    const fromFile = readConfigFile(configFile, problems);
    if (fromFile !== undefined) {
      if (getPath(fromFile, ['mqtt', 'password']) !== undefined) {
        problems.push({
          path: 'mqtt.password',
          message: `do not put the password in the config file ${configFile}: use PASSANT_MQTT_PASSWORD or mqtt.passwordFile`,
        });
        delete (fromFile.mqtt as Record<string, unknown>).password;
      }
      layered = mergeConfigLayers(layered, fromFile);
    }
  }

  const fromEnvPaths = new Map<string, string>();
  for (const key of sensorConfigKeys()) {
    const raw = env[key.env];
    if (raw === undefined) continue;
    setConfigPath(layered, key.path.split('.'), fromEnv(raw, key.type));
    fromEnvPaths.set(key.path, key.env);
  }
  if (options.overrides) layered = mergeConfigLayers(layered, options.overrides as Record<string, unknown>);

  const parsed = SensorConfigSchema.safeParse(layered);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const p = issue.path.map(String).join('.') || '(root)';
      const envVar = fromEnvPaths.get(p);
      problems.push({ path: p, message: envVar ? `${issue.message} (from ${envVar})` : issue.message });
    }
    throw new ConfigError(problems);
  }
  const config = parsed.data;

  if (config.mqtt.passwordFile !== null && config.mqtt.password !== null) {
    problems.push({ path: 'mqtt.passwordFile', message: 'give the password either in PASSANT_MQTT_PASSWORD or in mqtt.passwordFile, not both' });
  } else if (config.mqtt.passwordFile !== null) {
    try {
      config.mqtt.password = fs.readFileSync(config.mqtt.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push({ path: 'mqtt.passwordFile', message: `cannot read ${config.mqtt.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    const file = config.mqtt[key];
    if (file === null) continue;
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (err) {
      problems.push({ path: `mqtt.${key}`, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  if (config.source.kind === 'files') {
    for (const [i, file] of config.source.files.entries()) {
      try {
        fs.accessSync(file, fs.constants.R_OK);
      } catch (err) {
        problems.push({ path: `source.files.${i}`, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Parses any input object with the schema (defaults filled); throws a `ConfigError` listing every problem. */
export function parseSensorConfig(input: SensorConfigInput | unknown): SensorConfig {
  const parsed = SensorConfigSchema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })));
}

function readConfigFile(file: string, problems: ConfigProblem[]): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    problems.push({ path: 'PASSANT_CONFIG', message: `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return undefined;
  }
  let data: unknown;
  try {
    // The YAML parser is loaded only for a YAML file (a few MB of memory a sensor configured by environment never needs).
    data = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
  } catch (err) {
    // The parser's message says where (line, column); the file's content is not repeated.
    problems.push({ path: file, message: `not valid ${file.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}` });
    return undefined;
  }
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) {
    problems.push({ path: file, message: 'the config file must hold an object (key: value pairs)' });
    return undefined;
  }
  return data;
}

/** A copy of the config safe to log: the password replaced. */
export function redactSensorConfig(config: SensorConfig): SensorConfig {
  return { ...config, mqtt: { ...config.mqtt, password: config.mqtt.password === null ? null : '(set)' } };
}
