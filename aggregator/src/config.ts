/**
 * The aggregator's configuration: one zod schema with a default and a description for every key.
 * Sources, lowest first: the schema's defaults < the config file (PASSANT_CONFIG, JSON or YAML) < the environment.
 * Every scalar key has an environment variable named after its path: `http.port` -> PASSANT_HTTP_PORT,
 * `mqtt.caFile` -> PASSANT_MQTT_CA_FILE, `k` -> PASSANT_K. `PORT` is read too, below PASSANT_HTTP_PORT.
 * Validation lists every problem (path and message); nothing is connected before it passes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ID_PATTERN, SensorIdSchema } from '@passant/shared';
import YAML from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { InfluxConfigSchema } from './store/influx-config.ts';

const IdSchema = z.string().regex(ID_PATTERN, 'must match ^[a-z0-9][a-z0-9-]{0,63}$ (a-z, 0-9 and -, at most 64)');

/** The aggregator package's folder (…/aggregator). */
const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_DASHBOARD_DIR = path.resolve(PACKAGE_DIR, '../dashboard/dist');

/** A host name made into a valid id: lower case, anything else than a-z 0-9 becomes '-', at most 64 characters. */
export function sanitizeId(raw: string, fallback = 'aggregator'): string {
  const id = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return ID_PATTERN.test(id) ? id : fallback;
}

export function defaultInstanceId(): string {
  return sanitizeId(os.hostname());
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const ZoneSchema = z.strictObject({
  id: IdSchema.describe('zone id, used in URLs'),
  name: z.string().min(1).max(200).describe('name shown in the dashboard'),
  sensors: z.array(SensorIdSchema).max(10_000).default([]).describe('ids of the sensors that count this zone'),
});

const SiteSchema = z.strictObject({
  id: IdSchema.describe('site id'),
  name: z.string().min(1).max(200).describe('name shown in the dashboard'),
  zones: z.array(IdSchema).max(10_000).default([]).describe('ids of the zones in this site'),
});

export const AggregatorConfigSchema = z
  .strictObject({
    aggregator: z
      .strictObject({
        id: IdSchema.default(defaultInstanceId).meta({
          description:
            'instance id: names the MQTT client (passant-aggregator-<id>) and the status topic; keep it fixed across restarts so the persistent session survives',
          defaultLabel: 'the host name, sanitized to the id rule',
        }),
        shutdownStepTimeoutMs: z
          .number()
          .int()
          .min(100)
          .max(120_000)
          .default(5000)
          .describe('time limit of each shutdown step (stop ingest, publish offline, end MQTT, close HTTP, close store)'),
      })
      .prefault({})
      .describe('this aggregator instance'),
    mqtt: z
      .strictObject({
        url: z
          .string()
          .refine((u) => /^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/.test(u), {
            message: 'must be a URL such as mqtt://127.0.0.1:1883 or mqtts://broker:8883',
          })
          .default('mqtt://127.0.0.1:1883')
          .describe('broker URL (mqtt://, mqtts://, ws://, wss://)'),
        username: z.string().min(1).max(256).optional().describe('broker user name (optional)'),
        password: z
          .string()
          .min(1)
          .max(1024)
          .optional()
          .describe('broker password (optional; a secret: set it through the environment, it is never logged)'),
        caFile: z.string().min(1).optional().describe('PEM file of the CA that signed the broker certificate (TLS)'),
        certFile: z.string().min(1).optional().describe('PEM client certificate for TLS client authentication'),
        keyFile: z.string().min(1).optional().describe('PEM private key of the client certificate'),
        rejectUnauthorized: z
          .boolean()
          .default(true)
          .describe('verify the broker certificate (TLS); turn off only for a test broker'),
        shareGroup: IdSchema.optional().describe(
          'MQTT shared-subscription group: when set, counts are read through $share/<group>/passant/sensors/+/counts so several aggregators split the load',
        ),
        keepaliveSeconds: z.number().int().min(5).max(3600).default(30).describe('MQTT keepalive'),
        reconnectPeriodMs: z.number().int().min(100).max(300_000).default(2000).describe('wait between reconnect attempts'),
        connectTimeoutMs: z.number().int().min(100).max(300_000).default(10_000).describe('time limit of one connect attempt'),
      })
      .prefault({})
      .describe('connection to the MQTT broker'),
    http: z
      .strictObject({
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(8080)
          .describe('HTTP port (0 picks a free one); PORT is read too, PASSANT_HTTP_PORT wins over it'),
        host: z.string().min(1).default('127.0.0.1').describe('address to listen on (0.0.0.0 for every interface)'),
        dashboardDir: z.string().min(1).default(DEFAULT_DASHBOARD_DIR).meta({
          description: 'folder of the built dashboard (npm run build) served at /',
          defaultLabel: 'dashboard/dist beside the aggregator package',
        }),
        maxSeriesBuckets: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(50_000)
          .describe('most buckets one series request may ask for (more: 400)'),
        maxSeriesRangeDays: z
          .number()
          .int()
          .min(1)
          .max(36_600)
          .default(400)
          .describe('longest time range one series request may ask for, in days (more: 400)'),
        maxEventClients: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .default(100)
          .describe('most open live-update (Server-Sent Events) connections; more get 503'),
      })
      .prefault({})
      .describe('the HTTP API and dashboard'),
    data: z
      .strictObject({
        dir: z.string().min(1).default('./data').describe('data folder; the SQLite store is passant.db in it'),
      })
      .prefault({})
      .describe('where data is kept'),
    store: z
      .strictObject({
        kind: z
          .enum(['sqlite', 'influx'])
          .default('sqlite')
          .describe("which store keeps the counts: 'sqlite' (embedded, passant.db in data.dir) or 'influx' (InfluxDB, settings under influx)"),
      })
      .prefault({})
      .describe('the counts store'),
    influx: InfluxConfigSchema.prefault({}).describe('InfluxDB store settings, used when store.kind is influx'),
    log: z
      .strictObject({
        level: z.enum(LOG_LEVELS).default('info').describe('pino log level'),
        statsIntervalSeconds: z
          .number()
          .int()
          .min(0)
          .max(86_400)
          .default(60)
          .describe('period of the info-level stats line (0: none)'),
      })
      .prefault({})
      .describe('logging'),
    ingest: z
      .strictObject({
        ackMode: z
          .enum(['stored', 'received'])
          .default('stored')
          .describe(
            "when a counts message is acknowledged to the broker: 'stored' (after the store write: a crash means redelivery, never loss; one message at a time per connection) or 'received' (at once: faster, batches writes, may lose the last messages on a crash)",
          ),
        batchMaxSize: z.number().int().min(1).max(10_000).default(500).describe('most messages written in one store transaction'),
        batchMaxDelayMs: z
          .number()
          .int()
          .min(0)
          .max(1000)
          .default(0)
          .describe('how long a batch waits for more messages before it is written (0: the next turn of the event loop)'),
        storeRetryDelayMs: z
          .number()
          .int()
          .min(100)
          .max(600_000)
          .default(5000)
          .describe('after a failed store write, wait this long, then restart the MQTT connection so the broker redelivers what was not acknowledged'),
        maxFutureSeconds: z
          .number()
          .int()
          .min(0)
          .max(3600)
          .default(120)
          .describe('a window may start at most this far in the future (clock skew); later ones are rejected as future_window'),
      })
      .prefault({})
      .describe('MQTT ingest'),
    k: z
      .number()
      .int()
      .min(2)
      .max(1000)
      .default(5)
      .describe('release threshold: a zone-minute cell with fewer devices than k is suppressed (shown as suppressed, never as a number)'),
    settleSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(120)
      .describe(
        "a zone-minute is released only when every sensor of the zone has reported it or this long after the minute ended, so one sensor's count cannot be read as the difference of two releases (0: at once)",
      ),
    zones: z
      .array(ZoneSchema)
      .max(10_000)
      .default([])
      .describe('counting areas: [{ id, name, sensors: [sensorId] }]; a sensor belongs to at most one zone'),
    sites: z
      .array(SiteSchema)
      .max(10_000)
      .default([])
      .describe('groups of zones: [{ id, name, zones: [zoneId] }] (optional)'),
  })
  .superRefine((config, ctx) => {
    for (const problem of crossCheck(config)) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
  });

interface CrossProblem {
  path: (string | number)[];
  message: string;
}

/**
 * Checks across keys (a sensor in two zones, a site naming a missing zone...). Written for unvalidated input,
 * so that it can run even when other keys have problems (zod skips refinements of invalid objects) and every
 * problem is listed at once.
 */
function crossCheck(input: unknown): CrossProblem[] {
  const problems: CrossProblem[] = [];
  if (!isPlainObject(input)) return problems;
  const zones = Array.isArray(input.zones) ? input.zones : [];
  const sites = Array.isArray(input.sites) ? input.sites : [];
  const zoneIds = new Set<string>();
  const sensorZone = new Map<string, string>();
  zones.forEach((zone: unknown, i) => {
    if (!isPlainObject(zone) || typeof zone.id !== 'string') return;
    const zoneId = zone.id;
    if (zoneIds.has(zoneId)) problems.push({ path: ['zones', i, 'id'], message: `zone id "${zoneId}" is used twice` });
    zoneIds.add(zoneId);
    if (!Array.isArray(zone.sensors)) return;
    zone.sensors.forEach((sensorId: unknown, j) => {
      if (typeof sensorId !== 'string') return;
      const other = sensorZone.get(sensorId);
      if (other === undefined) {
        sensorZone.set(sensorId, zoneId);
        return;
      }
      problems.push({
        path: ['zones', i, 'sensors', j],
        message:
          other === zoneId
            ? `sensor "${sensorId}" is listed twice in zone "${zoneId}"`
            : `sensor "${sensorId}" is already in zone "${other}": a sensor belongs to at most one zone`,
      });
    });
  });
  const siteIds = new Set<string>();
  const zoneSite = new Map<string, string>();
  sites.forEach((site: unknown, i) => {
    if (!isPlainObject(site) || typeof site.id !== 'string') return;
    const siteId = site.id;
    if (siteIds.has(siteId)) problems.push({ path: ['sites', i, 'id'], message: `site id "${siteId}" is used twice` });
    siteIds.add(siteId);
    if (!Array.isArray(site.zones)) return;
    site.zones.forEach((zoneId: unknown, j) => {
      if (typeof zoneId !== 'string') return;
      if (!zoneIds.has(zoneId)) {
        problems.push({ path: ['sites', i, 'zones', j], message: `zone "${zoneId}" is not in zones` });
        return;
      }
      const other = zoneSite.get(zoneId);
      if (other === undefined) zoneSite.set(zoneId, siteId);
      else {
        problems.push({
          path: ['sites', i, 'zones', j],
          message: `zone "${zoneId}" is already in site "${other}": a zone belongs to at most one site`,
        });
      }
    });
  });
  const mqtt = isPlainObject(input.mqtt) ? input.mqtt : {};
  if ((mqtt.certFile === undefined) !== (mqtt.keyFile === undefined)) {
    problems.push({
      path: ['mqtt', mqtt.certFile === undefined ? 'certFile' : 'keyFile'],
      message: 'certFile and keyFile go together: set both or neither',
    });
  }
  return problems;
}

/** Every problem of `input` as `path: message`, schema and cross-key checks together, each once. */
function listProblems(input: unknown, issues: readonly { path: readonly PropertyKey[]; message: string }[], sourceOf?: (p: string) => string | undefined): string[] {
  const all = [...issues.map((i) => ({ path: i.path, message: i.message })), ...crossCheck(input)];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const issue of all) {
    const p = formatPath(issue.path);
    const key = `${p}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const source = sourceOf?.(p);
    out.push(`${p}: ${issue.message}${source ? ` (${source})` : ''}`);
  }
  return out;
}

export type AggregatorConfig = z.infer<typeof AggregatorConfigSchema>;
export type AggregatorConfigInput = z.input<typeof AggregatorConfigSchema>;
export type ZoneConfig = AggregatorConfig['zones'][number];
export type SiteConfig = AggregatorConfig['sites'][number];

/** One row of the configuration reference (the README's table is checked against these). */
export interface ConfigKeyReference {
  /** Dotted path in the config file, e.g. `http.port`. */
  key: string;
  /** Environment variable, or null for keys only a config file can set (lists). */
  env: string | null;
  /** JSON type: string, integer, number, boolean, array. */
  type: string;
  /** The default as text (JSON), or a description of how it is computed. */
  default: string;
  description: string;
  /** Allowed values of an enum. */
  values?: string[];
}

interface JsonSchemaNode {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
  default?: unknown;
  description?: string;
  defaultLabel?: string;
}

function envName(pathParts: string[]): string {
  return `PASSANT_${pathParts.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

/** Every key of the configuration, in schema order, with its environment variable, default and description. */
export function configReference(): ConfigKeyReference[] {
  const root = z.toJSONSchema(AggregatorConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const rows: ConfigKeyReference[] = [];
  const walk = (node: JsonSchemaNode, parts: string[]): void => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const p = [...parts, name];
      if (child.type === 'object' && child.properties) {
        walk(child, p);
        continue;
      }
      const type = child.enum ? 'string' : (child.type ?? 'string');
      const row: ConfigKeyReference = {
        key: p.join('.'),
        env: type === 'array' || type === 'object' ? null : envName(p),
        type,
        default: child.defaultLabel ?? (child.default === undefined ? '(unset)' : JSON.stringify(child.default)),
        description: child.description ?? '',
      };
      if (child.enum) row.values = child.enum.map(String);
      rows.push(row);
    }
  };
  walk(root, []);
  return rows;
}

/** The configuration reference as a Markdown table (for the README). */
export function configMarkdownTable(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| key | environment | default | description |', '| --- | --- | --- | --- |'];
  for (const r of configReference()) {
    const values = r.values ? ` (${r.values.join(', ')})` : '';
    lines.push(
      `| \`${r.key}\` | ${r.env ? `\`${r.env}\`` : '—'} | ${esc(r.default === '(unset)' ? 'unset' : `\`${r.default}\``)} | ${esc(r.description + values)} |`,
    );
  }
  return lines.join('\n');
}

/** Environment variables read besides those of configReference(), each below the one it stands in for. */
const ENV_ALIASES: Record<string, string> = { PORT: 'PASSANT_HTTP_PORT' };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects are merged key by key; anything else (arrays too) in `over` replaces what is in `base`. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = deepMerge(base[key], value);
  return out;
}

function setPath(target: Record<string, unknown>, parts: string[], value: unknown): void {
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Converts an environment string to the key's type; a value that does not convert stays a string for zod to report. */
function coerceEnv(raw: string, type: string): unknown {
  const value = raw.trim();
  if (type === 'integer' || type === 'number') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : raw;
  if (type === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(value)) return true;
    if (/^(false|0|no|off)$/i.test(value)) return false;
    return raw;
  }
  return raw;
}

function formatPath(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Reads a JSON or YAML config file; problems are added to `problems`. */
function readConfigFile(file: string, problems: string[]): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`config file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return {};
  }
  try {
    const parsed: unknown = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
    if (parsed === null || parsed === undefined) return {};
    if (!isPlainObject(parsed)) {
      problems.push(`config file ${file}: must hold an object (key: value), not ${Array.isArray(parsed) ? 'a list' : typeof parsed}`);
      return {};
    }
    return parsed;
  } catch (err) {
    problems.push(`config file ${file}: not valid ${file.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML or JSON'}: ${(err as Error).message.split('\n')[0]}`);
    return {};
  }
}

export interface LoadConfigOptions {
  /** Environment to read (default process.env). */
  env?: Record<string, string | undefined>;
  /** Config file; default env.PASSANT_CONFIG. */
  configFile?: string;
  /** Settings applied between the file and the environment (tests, `npm start`). */
  overrides?: AggregatorConfigInput;
}

/**
 * Builds the configuration from defaults, the config file and the environment. Throws a ConfigError that
 * lists every problem (`path: message`, with the environment variable or file that set the value).
 */
export function loadConfig(options: LoadConfigOptions = {}): AggregatorConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const sourceOf = new Map<string, string>();

  const configFile = options.configFile ?? (env.PASSANT_CONFIG?.trim() || undefined);
  let merged: unknown = {};
  if (configFile !== undefined) merged = readConfigFile(configFile, problems);
  if (options.overrides) merged = deepMerge(merged, options.overrides);

  const fromEnv: Record<string, unknown> = {};
  for (const row of configReference()) {
    if (row.env === null) continue;
    const alias = Object.entries(ENV_ALIASES).find(([, target]) => target === row.env)?.[0];
    const name = env[row.env]?.trim() ? row.env : alias !== undefined && env[alias]?.trim() ? alias : undefined;
    if (name === undefined) continue;
    setPath(fromEnv, row.key.split('.'), coerceEnv(env[name]!, row.type));
    sourceOf.set(row.key, `set by ${name}`);
  }
  merged = deepMerge(merged, fromEnv);

  const result = AggregatorConfigSchema.safeParse(merged);
  if (!result.success) {
    problems.push(
      ...listProblems(merged, result.error.issues, (p) => sourceOf.get(p) ?? (configFile !== undefined ? `in ${configFile}` : undefined)),
    );
  }
  if (result.success) {
    const { mqtt } = result.data;
    for (const [key, file] of [
      ['caFile', mqtt.caFile],
      ['certFile', mqtt.certFile],
      ['keyFile', mqtt.keyFile],
    ] as const) {
      if (file === undefined) continue;
      try {
        fs.accessSync(file, fs.constants.R_OK);
      } catch {
        problems.push(`mqtt.${key}: cannot read ${file}`);
      }
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}

/**
 * Validates a configuration given as an object (in-process use: tests, `npm start`): defaults are filled in,
 * problems are thrown as one ConfigError. The environment is not read.
 */
export function parseConfig(input: AggregatorConfigInput | AggregatorConfig = {}): AggregatorConfig {
  const result = AggregatorConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(listProblems(input, result.error.issues));
}

/** The configuration with secrets replaced, safe to log. */
export function redactConfig(config: AggregatorConfig): Json {
  const copy = JSON.parse(JSON.stringify(config)) as { mqtt: Record<string, unknown>; influx: Record<string, unknown> } & Record<string, Json>;
  if (copy.mqtt.password !== undefined) copy.mqtt.password = '(set)';
  if (copy.influx.password !== undefined) copy.influx.password = '(set)';
  if (copy.influx.token !== undefined) copy.influx.token = '(set)';
  return copy as unknown as Json;
}
