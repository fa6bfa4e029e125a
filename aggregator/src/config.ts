/**
 * The aggregator's configuration: one zod schema with a default and a description for every key, its checks
 * across keys, and what only the aggregator reads (`PORT`, the noise key file). Loading is the shared loader's
 * (@passant/shared/config-loader): the schema's defaults < the config file (PASSANT_CONFIG, JSON or YAML) < the
 * environment < overrides. Every scalar key has an environment variable named after its path: `http.port` ->
 * PASSANT_HTTP_PORT, `mqtt.caFile` -> PASSANT_MQTT_CA_FILE, `k` -> PASSANT_K. `PORT` is read too, below
 * PASSANT_HTTP_PORT. Unset is `undefined`. Validation lists every problem; nothing is connected before it passes.
 *
 * Size: over 400 lines because the schema is the reference of every configuration key (its default, its check and
 * its description, from which the docs are generated); loading is shared, what remains here is that list.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ID_PATTERN, SensorIdSchema, configEnvName, configSchemaLeaves, isPlainObject } from '@passant/shared';
import { loadConfig as loadLayeredConfig, parseConfigObject, type ConfigCheckProblem, type ConfigProblem } from '@passant/shared/config-loader';
import { mqttFileProblems, mqttTlsPairProblems } from '@passant/shared/mqtt-options';
import YAML from 'yaml';
import { z } from 'zod';
import { InfluxConfigSchema } from './store/influx-config.ts';
import { TransparencyConfigSchema } from './kit/transparency-config.ts';
import { NgsiLdConfigSchema, OpenDataConfigSchema } from './interop/config.ts';

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

/** 'none', 'all', a list of ids, or (from the environment) the ids comma-separated. */
const PublicScopeSchema = z.union([
  z.enum(['none', 'all']),
  z.array(IdSchema).max(10_000),
  z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,63}(,[a-z0-9][a-z0-9-]{0,63})*$/, "must be 'none', 'all' or ids separated by commas")
    .transform((s) => s.split(',')),
], { error: "must be 'none', 'all', a list of ids, or (environment) ids separated by commas" });

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const CoordinatesSchema = z
  .strictObject({
    lat: z.number().min(-90).max(90).describe('latitude, WGS 84 degrees'),
    lon: z.number().min(-180).max(180).describe('longitude, WGS 84 degrees'),
  })
  .describe('where it is, for maps (optional)');

const ZoneSchema = z.strictObject({
  id: IdSchema.describe('zone id, used in URLs'),
  name: z.string().min(1).max(200).describe('name shown in the dashboard'),
  coordinates: CoordinatesSchema.optional(),
  owners: z
    .array(z.string().min(1).max(200))
    .max(100)
    .default([])
    .describe('who the zone belongs to: free-text labels (a shop, a department) that viewer tokens can be tied to'),
  sensors: z.array(SensorIdSchema).max(10_000).default([]).describe('ids of the sensors that count this zone'),
});

const SiteSchema = z.strictObject({
  id: IdSchema.describe('site id'),
  name: z.string().min(1).max(200).describe('name shown in the dashboard'),
  coordinates: CoordinatesSchema.optional(),
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
          .describe('most open live-update (Server-Sent Events) connections in all; more get 503'),
        maxEventClientsPerClient: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(10)
          .describe(
            'most open live-update connections of one client (one token, or one client address without a token), so one client cannot take every slot; more get 429',
          ),
        rateLimitPerMinute: z
          .number()
          .int()
          .min(0)
          .max(1_000_000)
          .default(600)
          .describe(
            'API request units a minute per token (or per client address without a token), sustained; a request costs 1 unit plus 1 per rateLimitCellsPerUnit cells it reads; more get 429 with Retry-After (0: no limit). /healthz and /metrics have their own buckets of the same size',
          ),
        rateLimitBurst: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(120)
          .describe('API request units a token or client address may spend at once before the per-minute rate applies (one request never costs more)'),
        rateLimitCellsPerUnit: z
          .number()
          .int()
          .min(1)
          .max(10_000_000)
          .default(1440)
          .describe(
            'cells (zone x bucket read: minutes, hours or days) per extra rate-limit unit of a series, CSV, compare or profile request (1440: a day of minutes of one zone)',
          ),
        trustProxyHops: z
          .number()
          .int()
          .min(0)
          .max(10)
          .default(0)
          .describe(
            'reverse proxies in front of the aggregator whose X-Forwarded-For/-Proto are trusted (client address for rate limits; HTTPS for HSTS); 0: none',
          ),
      })
      .prefault({})
      .describe('the HTTP API and dashboard'),
    audit: z
      .strictObject({
        accessLogDays: z
          .number()
          .int()
          .min(1)
          .max(3660)
          .default(90)
          .describe('how long the access log (who read which zone or site, which period, when: token requests only) is kept, in days'),
        accessLogFile: z
          .string()
          .min(1)
          .optional()
          .describe('SQLite file of the access log and of the audit totals that survive restarts (default: access-log.db in data.dir)'),
      })
      .prefault({})
      .describe('the access log and the audit totals, for the privacy officer'),
    auth: z
      .strictObject({
        public: z
          .strictObject({
            zones: PublicScopeSchema.default('none').meta({
              description: "zones whose released counts anyone may read without a token: 'none', 'all', or a list of zone ids (environment: a comma-separated list)",
              defaultLabel: '"none"',
            }),
            sites: PublicScopeSchema.default('none').meta({
              description: "sites whose released counts anyone may read without a token: 'none', 'all', or a list of site ids (environment: a comma-separated list)",
              defaultLabel: '"none"',
            }),
            privacyPage: z
              .boolean()
              .default(true)
              .describe('anyone may read GET /api/v1/privacy (k, suppressed share, retention, the counts message schema): no counts'),
            metrics: z
              .boolean()
              .default(false)
              .describe(
                'anyone may read GET /metrics (ingest and HTTP counters, no counts of people); off: only admin and privacy tokens (Prometheus: authorization credentials in the scrape config)',
              ),
          })
          .prefault({})
          .describe('what is readable without a token'),
        tokensFile: z.string().min(1).optional().meta({
          description: 'SQLite file of the API tokens (hashes only; managed with `passant-aggregator token`)',
          defaultLabel: 'tokens.db in data.dir',
        }),
      })
      .prefault({})
      .describe('API access: tokens (Authorization: Bearer) and what is public'),
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
            "when a counts message is acknowledged to the broker: 'stored' (after its batch is committed to the store: a crash means redelivery, never loss; PUBACKs are held, not the connection, so writes are still batched) or 'received' (at once: may lose the last messages on a crash)",
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
        earliestWindowStart: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe(
            'Unix seconds: windows starting before this are rejected as window_too_old (e.g. the day the sensors were installed); windows older than retention.minuteDays are rejected anyway',
          ),
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
    retention: z
      .strictObject({
        minuteDays: z
          .number()
          .int()
          .min(1)
          .max(3660)
          .default(31)
          .describe(
            'released zone-minutes (and any per-sensor row left) older than this many whole days are deleted; hour and day rollups stay. Windows older than this are rejected at the door as window_too_old',
          ),
        sensorWindowHours: z
          .number()
          .int()
          .min(1)
          .max(8784)
          .default(48)
          .describe(
            "per-sensor minute rows (each sensor's counts) are deleted once their zone-minutes are released and they are older than this many hours (counted from the current hour's start); 48 is what the static baseline needs (it looks back 48 h)",
          ),
        intervalMinutes: z.number().int().min(1).max(1440).default(60).describe('how often the retention job runs (it runs at start too)'),
      })
      .prefault({})
      .describe('how long minute data are kept'),
    noise: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            'add integer noise (two-sided geometric) to released counts, for open data; the same noise for the same cell on every request',
          ),
        epsilon: z
          .number()
          .min(0.01)
          .max(10)
          .default(1)
          .describe('privacy parameter of the noise per released zone-minute (smaller: more noise); stated in every noisy response'),
        key: z
          .string()
          .min(32)
          .max(1024)
          .optional()
          .describe('secret (32+ characters) the noise is derived from (HMAC-SHA256); set it through PASSANT_NOISE_KEY or keyFile, it is never logged'),
        keyFile: z.string().min(1).optional().describe('file holding the noise secret (32+ characters; surrounding white space ignored)'),
        devicesPerPerson: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(2)
          .describe(
            "devices one person may carry: with the zone's number of sensors it makes the noise's sensitivity (one person changes a zone-minute by at most devicesPerPerson x sensors), so epsilon holds per person",
          ),
      })
      .prefault({})
      .describe('noise for open data (off by default)'),
    baseline: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'release a zone-minute only when it rests on at least k devices beyond the ones its sensors always hear (printers, PCs, beacons), estimated per sensor from its own counts',
          ),
        historyHours: z
          .number()
          .int()
          .min(6)
          .max(24 * 31)
          .default(48)
          .describe("how far back a sensor's counts are read for its static baseline (per-sensor rows must be kept at least this long)"),
        quietHours: z.number().int().min(1).max(24).default(4).describe("how many of the history's quietest hours the baseline is taken from"),
        quantile: z
          .number()
          .gt(0)
          .max(1)
          .default(0.9)
          .describe("quantile of the quiet hours' minute counts taken as the baseline (high: errs on hiding)"),
        minHistoryHours: z
          .number()
          .int()
          .min(1)
          .max(24 * 31)
          .default(12)
          .describe(
            "with fewer usable hours of a sensor's history than this its baseline is unknown: a new sensor learns, and until then none of its devices count as moving (its cells stay hidden unless another sensor of the zone passes)",
          ),
      })
      .prefault({})
      .describe('static-device baseline of the release rule'),
    zones: z
      .array(ZoneSchema)
      .max(10_000)
      .default([])
      .describe(
        'counting areas: [{ id, name, coordinates?: { lat, lon }, owners: [label], sensors: [sensorId] }]; a sensor belongs to at most one zone. Reloaded without a restart when the config file changes',
      ),
    sites: z
      .array(SiteSchema)
      .max(10_000)
      .default([])
      .describe('groups of zones: [{ id, name, coordinates?: { lat, lon }, zones: [zoneId] }] (optional; reloaded with zones)'),
    transparency: TransparencyConfigSchema,
    // The open-data feed and FIWARE NGSI-LD (interop/config.ts).
    openData: OpenDataConfigSchema,
    ngsiLd: NgsiLdConfigSchema,
  })
  .superRefine((config, ctx) => {
    for (const problem of crossCheck(config)) ctx.addIssue({ code: 'custom', path: [...problem.path], message: problem.message });
  });

type CrossProblem = ConfigCheckProblem;

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
  const publicAccess = isPlainObject(input.auth) && isPlainObject(input.auth.public) ? input.auth.public : {};
  for (const [key, known] of [
    ['zones', zoneIds],
    ['sites', siteIds],
  ] as const) {
    const scope = publicAccess[key];
    const ids: unknown[] | null = Array.isArray(scope) ? scope : typeof scope === 'string' && scope !== 'none' && scope !== 'all' ? scope.split(',') : null;
    ids?.forEach((id: unknown, j) => {
      if (typeof id === 'string' && !known.has(id)) {
        problems.push({ path: ['auth', 'public', key, j], message: `${key === 'zones' ? 'zone' : 'site'} "${id}" is not in ${key}` });
      }
    });
  }
  const noise = isPlainObject(input.noise) ? input.noise : {};
  if (noise.enabled === true && noise.key === undefined && noise.keyFile === undefined) {
    problems.push({ path: ['noise', 'key'], message: 'noise is enabled: set its secret with PASSANT_NOISE_KEY or noise.keyFile' });
  }
  if (noise.key !== undefined && noise.keyFile !== undefined) {
    problems.push({ path: ['noise', 'keyFile'], message: 'set either noise.key or noise.keyFile, not both' });
  }
  const baseline = isPlainObject(input.baseline) ? input.baseline : {};
  const retention = isPlainObject(input.retention) ? input.retention : {};
  const lookBack = typeof baseline.historyHours === 'number' ? baseline.historyHours : 48;
  const kept = typeof retention.sensorWindowHours === 'number' ? retention.sensorWindowHours : 48;
  if (baseline.enabled !== false && lookBack > kept) {
    problems.push({
      path: ['baseline', 'historyHours'],
      message: `the static baseline looks back ${lookBack} h but per-sensor rows are kept only ${kept} h (retention.sensorWindowHours): raise that or lower this`,
    });
  }
  problems.push(...mqttTlsPairProblems(input.mqtt));
  return problems;
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

/** Every key of the configuration, in schema order, with its environment variable, default and description. */
export function configReference(): ConfigKeyReference[] {
  return configSchemaLeaves(AggregatorConfigSchema).map(({ path: p, node }) => {
    const type = node.enum ? 'string' : (node.type ?? 'string');
    const row: ConfigKeyReference = {
      key: p.join('.'),
      env: type === 'array' || type === 'object' ? null : configEnvName(p),
      type,
      default: node.defaultLabel ?? (node.default === undefined ? '(unset)' : JSON.stringify(node.default)),
      description: node.description ?? '',
    };
    if (node.enum) row.values = node.enum.map(String);
    return row;
  });
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

export interface LoadConfigOptions {
  /** Environment to read (default process.env). */
  env?: Record<string, string | undefined>;
  /** Config file; default env.PASSANT_CONFIG. */
  configFile?: string;
  /** Settings laid over everything, the environment too (the command line, tests, `npm start`). */
  overrides?: AggregatorConfigInput;
}

/** The aggregator's checks of a parsed configuration: the files it names can be read. */
function checkFiles(config: AggregatorConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = mqttFileProblems(config.mqtt);
  const { keyFile } = config.noise;
  if (keyFile !== undefined) {
    try {
      if (fs.readFileSync(keyFile, 'utf8').trim().length < 32) problems.push({ path: 'noise.keyFile', message: `${keyFile} holds fewer than 32 characters` });
    } catch {
      problems.push({ path: 'noise.keyFile', message: `cannot read ${keyFile}` });
    }
  }
  return problems;
}

/**
 * Builds the configuration from defaults, the config file, the environment and `overrides` (the shared loader).
 * Throws a ConfigError that lists every problem (path, message, and the environment variable or file that set
 * the value).
 */
export function loadConfig(options: LoadConfigOptions = {}): AggregatorConfig {
  const env = options.env ?? process.env;
  const configFile = options.configFile ?? (env.PASSANT_CONFIG?.trim() || undefined);
  return loadLayeredConfig(AggregatorConfigSchema, {
    ...(configFile !== undefined ? { file: configFile } : {}),
    env,
    envKeys: configReference().flatMap((row) => (row.env === null ? [] : [{ path: row.key.split('.'), env: row.env, type: row.type }])),
    envAliases: ENV_ALIASES,
    ...(options.overrides ? { overrides: options.overrides as Record<string, unknown> } : {}),
    parseYaml: (text) => YAML.parse(text),
    crossCheck,
    check: checkFiles,
  });
}

/**
 * Validates a configuration given as an object (in-process use: tests, `npm start`): defaults are filled in,
 * problems are thrown as one ConfigError. The environment is not read.
 */
export function parseConfig(input: AggregatorConfigInput | AggregatorConfig = {}): AggregatorConfig {
  return parseConfigObject(AggregatorConfigSchema, input, { crossCheck });
}

/** The configuration with secrets replaced, safe to log. */
export function redactConfig(config: AggregatorConfig): Json {
  const copy = JSON.parse(JSON.stringify(config)) as { mqtt: Record<string, unknown>; influx: Record<string, unknown> } & Record<string, Json>;
  if (copy.mqtt.password !== undefined) copy.mqtt.password = '(set)';
  if (copy.influx.password !== undefined) copy.influx.password = '(set)';
  if (copy.influx.token !== undefined) copy.influx.token = '(set)';
  const noise = copy.noise as Record<string, unknown> | undefined;
  if (noise?.key !== undefined) noise.key = '(set)';
  return copy as unknown as Json;
}
