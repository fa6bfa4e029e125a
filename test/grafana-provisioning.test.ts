/**
 * Grafana provisioning (deploy/grafana/, the `grafana` service of docker-compose.yml) checked without Grafana:
 * the provisioning YAML and the dashboard JSON are parsed, the data source is compared with the compose InfluxDB
 * service, and EVERY query of every provisioned dashboard is checked against the InfluxDB store's layout as the
 * store's own code writes it (measurement, tag and field names from aggregator/src/store/influx-points.ts, field
 * sets read off the points that `cellPoint` and `rollupPoint` build):
 *
 * - it reads only the release layer's measurements (`cells`, `rollups`), never the raw `counts` (nor the
 *   `unsettled` queue or `meta`), and names its measurement (a query without one would read them all);
 * - it filters by tags those points have, reads fields they have, and only the released-value fields with their
 *   gate: a cell's `<radio>_devices` only where `<radio>_released == 1` (a suppressed cell's exact sum is stored
 *   beside it), a rollup's `<radio>_sum` only where `<radio>_released > 0`, and rollups of one step only;
 * - hidden minutes stay null: no fill(), aggregateWindow with createEmpty: true, panels that do not span nulls.
 *
 * No query is run: the InfluxDB here is 1.6.7 (v1 only, no Flux) and there is no Docker engine, so the Flux
 * queries are checked by parsing and against the schema only. A checker that accepted anything would prove
 * nothing, so the last test feeds it broken queries and expects it to object to each.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { RADIOS } from '@passant/shared';
import {
  CELLS_MEASUREMENT,
  cellPoint,
  MEASUREMENT,
  META_MEASUREMENT,
  ROLLUPS_MEASUREMENT,
  rollupPoint,
  toLine,
  UNSETTLED_MEASUREMENT,
  ZONE_TAG,
} from '../aggregator/src/store/influx-points.ts';
import { ROLLUP_STEPS } from '../aggregator/src/store/types.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (rel: string) => fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8');

// ---------------------------------------------------------------------------------------------------------------
// The store's schema, from the store's code

interface MeasurementSchema {
  tags: Set<string>;
  fields: Set<string>;
}

/** Splits at `sep` outside double quotes (line protocol quotes string field values, with \" inside). */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Measurement, tag keys and field keys of one line of line protocol. */
function parseLine(line: string): { measurement: string } & MeasurementSchema {
  const [series, fieldSet] = splitOutsideQuotes(line, ' ') as [string, string];
  const [measurement, ...tags] = series.split(',') as [string, ...string[]];
  return {
    measurement,
    tags: new Set(tags.map((t) => t.slice(0, t.indexOf('=')))),
    fields: new Set(splitOutsideQuotes(fieldSet, ',').map((f) => f.slice(0, f.indexOf('=')))),
  };
}

const cellLine = parseLine(
  toLine(
    cellPoint({
      zoneId: 'z-1',
      windowStart: 60,
      sensors: ['s-1'],
      // noise present, so that the optional noise fields appear too
      wifi: { devices: 7, released: true, noise: 1 },
      ble: { devices: 2, released: false, noise: -1 },
    }),
  ),
);
const rollupLine = parseLine(
  toLine(
    rollupPoint({
      zoneId: 'z-1',
      step: 3600,
      t: 3600,
      wifi: { sum: 7, released: 1, suppressed: 0, noise: 1, noised: 1 },
      ble: { sum: 0, released: 0, suppressed: 1, noise: 0, noised: 0 },
    }),
  ),
);
const SCHEMA = new Map<string, MeasurementSchema>([
  [cellLine.measurement, cellLine],
  [rollupLine.measurement, rollupLine],
]);

/** The measurements of released data, and per measurement the fields the dashboard may read. */
interface ReleasedMeasurement {
  /** field -> the filter (after pivot) without which it must not be read; null: readable as it is */
  fields: Map<string, RegExp | null>;
  /** tag that must be filtered to one value of `values` (rollups: the step, or hours and days would add up) */
  requiredTag?: { name: string; values: string[] };
}
const RELEASED = new Map<string, ReleasedMeasurement>([
  [
    CELLS_MEASUREMENT,
    {
      fields: new Map(
        RADIOS.flatMap((radio) => [
          // the exact sum is stored for suppressed cells too: only released cells' may be read
          [`${radio}_devices`, new RegExp(`filter\\(fn: \\(r\\) => r\\.${radio}_released == 1\\)`)],
          [`${radio}_released`, null],
        ]),
      ),
    },
  ],
  [
    ROLLUPS_MEASUREMENT,
    {
      fields: new Map(
        RADIOS.flatMap((radio) => [
          // sum of released cells; an hour without one has sum 0 and must be a gap, not a 0
          [`${radio}_sum`, new RegExp(`filter\\(fn: \\(r\\) => r\\.${radio}_released > 0\\)`)],
          [`${radio}_released`, null],
          [`${radio}_suppressed`, null],
        ]),
      ),
      requiredTag: { name: 'step', values: ROLLUP_STEPS.map(String) },
    },
  ],
]);
const NEVER_READ = [MEASUREMENT, UNSETTLED_MEASUREMENT, META_MEASUREMENT];
const FLUX_COLUMNS = new Set(['_measurement', '_field', '_value', '_time', '_start', '_stop']);

// ---------------------------------------------------------------------------------------------------------------
// Docker Compose and the provisioning files

interface Service {
  image?: string;
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }> | string[];
}
const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const grafanaEntry = Object.entries(compose.services).find(([, s]) => s.image?.startsWith('grafana/grafana-oss:'));
const influxEntry = Object.entries(compose.services).find(([, s]) => s.image?.startsWith('influxdb:2'));
const aggregator = Object.values(compose.services).find((s) => s.environment?.PASSANT_STORE_KIND === 'influx');

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  bind: boolean;
}
function mountsOf(service: Service): Mount[] {
  return (service.volumes ?? []).map((spec) => {
    const [source, target, mode] = spec.split(':') as [string, string, string | undefined];
    return { source, target, readOnly: mode === 'ro', bind: source.startsWith('.') || source.startsWith('/') };
  });
}
/** Repository-relative host path of the read-only bind mount that provides `containerPath`, or null. */
function hostPathFor(service: Service, containerPath: string): string | null {
  for (const m of mountsOf(service)) {
    if (!m.bind || !m.readOnly) continue;
    if (containerPath === m.target) return path.normalize(m.source);
    if (containerPath.startsWith(`${m.target}/`)) return path.normalize(path.join(m.source, containerPath.slice(m.target.length + 1)));
  }
  return null;
}

const PROVISIONING = '/etc/grafana/provisioning';

interface DataSource {
  name: string;
  uid: string;
  type: string;
  url: string;
  jsonData?: { version?: string; organization?: string; defaultBucket?: string };
  secureJsonData?: { token?: string };
}
interface DashboardProvider {
  type: string;
  options: { path: string };
}

// ---------------------------------------------------------------------------------------------------------------
// Queries of a dashboard

interface FoundQuery {
  where: string;
  query: string;
  datasourceUid: string | undefined;
}

/** Every query of a dashboard: panel targets (also in rows and collapsed rows) and query variables. */
function queriesOf(dashboard: Record<string, unknown>): FoundQuery[] {
  const found: FoundQuery[] = [];
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) {
      node.forEach((n, i) => walk(n, `${where}[${i}]`));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (Array.isArray(o.targets)) {
      const panelDs = (o.datasource as { uid?: string } | undefined)?.uid;
      (o.targets as Record<string, unknown>[]).forEach((t, i) => {
        expect(typeof t.query, `${where}.targets[${i}] has a query`).toBe('string');
        found.push({ where: `${where} "${String(o.title)}" target ${String(t.refId)}`, query: t.query as string, datasourceUid: (t.datasource as { uid?: string } | undefined)?.uid ?? panelDs });
      });
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'targets') walk(v, `${where}.${k}`);
  };
  walk(dashboard.panels, 'panels');
  const variables = ((dashboard.templating as { list?: Record<string, unknown>[] } | undefined)?.list ?? []).filter((v) => v.type === 'query');
  for (const v of variables) {
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    expect(typeof q, `variable ${String(v.name)} has a query`).toBe('string');
    found.push({ where: `variable ${String(v.name)}`, query: q!, datasourceUid: (v.datasource as { uid?: string } | undefined)?.uid });
  }
  return found;
}

/** Every string anywhere in the dashboard that looks like a query (so that no query escapes queriesOf). */
function queryLikeStrings(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string') {
    if (/from\(\s*bucket|schema\.|\bSELECT\b|\bbucket:/i.test(node)) out.push(node);
  } else if (Array.isArray(node)) node.forEach((n) => queryLikeStrings(n, out));
  else if (node !== null && typeof node === 'object') for (const v of Object.values(node)) queryLikeStrings(v, out);
  return out;
}

interface CheckContext {
  bucket: string;
  variables: Set<string>;
}

/**
 * What is wrong with one Flux query against the store's schema: [] when nothing. Deliberately strict and simple:
 * one from() per query, measurements and fields compared as literals, so that a query it cannot follow fails.
 */
function problemsOf(query: string, ctx: CheckContext): string[] {
  const problems: string[] = [];
  if (/^\s*SELECT\b/im.test(query)) return ['an InfluxQL query: the data source is Flux'];

  // Grafana variables used must exist
  for (const m of query.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)) {
    const name = m[1] ?? m[2]!;
    if (!ctx.variables.has(name) && !name.startsWith('__')) problems.push(`uses an unknown variable $${name}`);
  }

  // A variable query: the tag values of one released measurement.
  if (/schema\./.test(query)) {
    const call = query.match(/schema\.(\w+)\(([^)]*)\)/);
    if (call === null || call[1] !== 'measurementTagValues') return [...problems, 'only schema.measurementTagValues(bucket, measurement, tag) is allowed'];
    const arg = (name: string) => call[2]!.match(new RegExp(`\\b${name}:\\s*"([^"]*)"`))?.[1];
    const measurement = arg('measurement');
    if (arg('bucket') !== ctx.bucket) problems.push(`bucket ${String(arg('bucket'))} is not ${ctx.bucket}`);
    if (measurement === undefined || !RELEASED.has(measurement)) problems.push(`measurement ${String(measurement)} is not a released one`);
    else if (!SCHEMA.get(measurement)!.tags.has(arg('tag') ?? '')) problems.push(`${measurement} has no tag ${String(arg('tag'))}`);
    return problems;
  }

  const froms = [...query.matchAll(/from\(\s*bucket:\s*"([^"]*)"\s*\)/g)];
  if (froms.length !== 1 || (query.match(/\bfrom\(/g) ?? []).length !== 1) return [...problems, 'not exactly one from(bucket: "...")'];
  if (froms[0]![1] !== ctx.bucket) problems.push(`bucket ${froms[0]![1]} is not ${ctx.bucket}`);
  if (!/\|>\s*range\(start:\s*v\.timeRangeStart,\s*stop:\s*v\.timeRangeStop\)/.test(query)) problems.push('no range() over the dashboard time');

  // measurement: named, released, compared only with ==
  const measurements = [...query.matchAll(/r\._measurement\s*==\s*"([^"]*)"/g)].map((m) => m[1]!);
  const measurementUses = (query.match(/r\._measurement\b/g) ?? []).length;
  if (measurementUses !== measurements.length) problems.push('r._measurement compared otherwise than with == "..."');
  if (new Set(measurements).size !== 1) return [...problems, `not exactly one measurement named (${measurements.join(', ') || 'none'})`];
  const measurement = measurements[0]!;
  if (NEVER_READ.includes(measurement)) return [...problems, `reads ${measurement}, which is not released data`];
  const released = RELEASED.get(measurement);
  const schema = SCHEMA.get(measurement);
  if (released === undefined || schema === undefined) return [...problems, `reads ${measurement}, which is not a released measurement`];

  // fields: selected by name, existing, allowed
  const fields = [...query.matchAll(/r\._field\s*==\s*"([^"]*)"/g)].map((m) => m[1]!);
  if ((query.match(/r\._field\b/g) ?? []).length !== fields.length) problems.push('r._field compared otherwise than with == "..."');
  if (fields.length === 0) problems.push('selects no field by name');
  for (const f of fields) {
    if (!schema.fields.has(f)) problems.push(`${measurement} has no field ${f}`);
    else if (!released.fields.has(f)) problems.push(`reads ${measurement}.${f}, which the dashboard must not show`);
    const gate = released.fields.get(f);
    if (gate) {
      // after pivot() (where the field is a column of the row) and before the value is used (map, aggregates)
      const pivot = query.search(/\|>\s*pivot\(/);
      const gateAt = query.search(gate);
      const used = Math.min(...[/\|>\s*map\(/, /\|>\s*aggregateWindow\(/].map((re) => query.search(re)).filter((i) => i >= 0));
      if (gateAt < 0 || pivot < 0 || gateAt < pivot || gateAt > used) problems.push(`reads ${measurement}.${f} without the filter ${gate.source} after pivot(), before its use`);
    }
  }

  // every r.<column>: a Flux column, a tag of the measurement, or a selected field (after pivot)
  for (const m of query.matchAll(/\br\.([A-Za-z_]\w*)/g)) {
    const column = m[1]!;
    if (FLUX_COLUMNS.has(column) || schema.tags.has(column)) continue;
    if (!schema.fields.has(column)) problems.push(`${measurement} has no tag or field ${column}`);
    else if (!fields.includes(column)) problems.push(`uses field ${column} that it does not select`);
  }

  // tags: filtered to a zone, and to a step where rows of several steps exist
  if (!new RegExp(`r\\.${ZONE_TAG}\\s*(==|=~)`).test(query)) problems.push(`does not filter by ${ZONE_TAG}`);
  if (released.requiredTag !== undefined) {
    const { name, values } = released.requiredTag;
    const steps = [...query.matchAll(new RegExp(`r\\.${name}\\s*==\\s*"([^"]*)"`, 'g'))].map((m) => m[1]!);
    if (steps.length !== 1 || !values.includes(steps[0]!)) problems.push(`does not filter ${name} to one of ${values.join(', ')}`);
  }

  // hidden minutes stay null
  if (/\bfill\(/.test(query)) problems.push('fills (hidden minutes must stay null)');
  const windows = [...query.matchAll(/aggregateWindow\(([^)]*)\)/g)];
  if (windows.length === 0) problems.push('no aggregateWindow(): missing minutes would not be null');
  for (const w of windows) if (!/createEmpty:\s*true/.test(w[1]!)) problems.push('aggregateWindow() without createEmpty: true');
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------

describe('Grafana provisioning', () => {
  it('reads the store schema from the store code (so the checks below have something to compare with)', () => {
    expect(cellLine.measurement).toBe(CELLS_MEASUREMENT);
    expect(rollupLine.measurement).toBe(ROLLUPS_MEASUREMENT);
    expect([...cellLine.tags]).toEqual([ZONE_TAG]);
    expect([...rollupLine.tags].sort()).toEqual(['step', ZONE_TAG].sort());
    for (const radio of RADIOS) {
      expect(cellLine.fields).toContain(`${radio}_devices`);
      expect(cellLine.fields).toContain(`${radio}_released`);
      expect(rollupLine.fields).toContain(`${radio}_sum`);
    }
    // every field the dashboard may read exists in the store
    for (const [m, r] of RELEASED) for (const f of r.fields.keys()) expect(SCHEMA.get(m)!.fields, `${m}.${f}`).toContain(f);
  });

  it('runs a pinned Grafana on loopback after InfluxDB, with its provisioning mounted read-only and its secrets from .env', () => {
    expect(grafanaEntry, 'a service with image grafana/grafana-oss').toBeDefined();
    const [name, grafana] = grafanaEntry!;
    expect(grafana.image).toMatch(/^grafana\/grafana-oss:\d+\.\d+\.\d+$/);
    expect(grafana.ports?.length).toBeGreaterThan(0);
    for (const spec of grafana.ports!) expect(spec, `${name}: port ${spec}`).toMatch(/^127\.0\.0\.1:\d+:3000$/);
    expect(influxEntry, 'an influxdb:2 service').toBeDefined();
    expect((grafana.depends_on as Record<string, { condition?: string }>)[influxEntry![0]]?.condition).toBe('service_healthy');

    const env = grafana.environment ?? {};
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBe('${GRAFANA_ADMIN_PASSWORD:?run deploy/mosquitto/setup-compose.sh to create .env}');
    expect(read('deploy/mosquitto/setup-compose.sh')).toContain('echo "GRAFANA_ADMIN_PASSWORD=$(secret)"');
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');

    // the provisioning folder of the repository, with both files, read-only
    const provisioning = hostPathFor(grafana, PROVISIONING);
    expect(provisioning).toBe('deploy/grafana/provisioning');
    for (const kind of ['datasources', 'dashboards']) {
      expect(fs.existsSync(path.join(REPO_ROOT, provisioning!, kind, 'passant.yaml')), `${kind}/passant.yaml`).toBe(true);
    }
    // every bind mount's source exists in the repository
    for (const m of mountsOf(grafana).filter((m) => m.bind)) {
      expect(fs.existsSync(path.join(REPO_ROOT, m.source)), `${m.source} exists`).toBe(true);
      expect(m.readOnly, `${m.source} is mounted read-only`).toBe(true);
    }
  });

  const [, grafana] = grafanaEntry ?? [undefined, {} as Service];
  const provisioningDir = path.join(REPO_ROOT, 'deploy/grafana/provisioning');
  const dataSources = (YAML.parse(read('deploy/grafana/provisioning/datasources/passant.yaml')) as { apiVersion: number; datasources: DataSource[] });
  const providers = (YAML.parse(read('deploy/grafana/provisioning/dashboards/passant.yaml')) as { apiVersion: number; providers: DashboardProvider[] });

  it('points the data source at the compose InfluxDB, its organization and bucket, with the token variable of .env', () => {
    expect(dataSources.apiVersion).toBe(1);
    expect(dataSources.datasources).toHaveLength(1);
    const ds = dataSources.datasources[0]!;
    expect(ds.type).toBe('influxdb');
    expect(ds.jsonData?.version).toBe('Flux');
    const [influxName, influx] = influxEntry!;
    expect(ds.url).toBe(`http://${influxName}:8086`);
    const influxEnv = influx.environment!;
    expect(ds.jsonData?.organization).toBe(influxEnv.DOCKER_INFLUXDB_INIT_ORG);
    expect(ds.jsonData?.defaultBucket).toBe(influxEnv.DOCKER_INFLUXDB_INIT_BUCKET);
    // the same organization and bucket the aggregator writes to
    expect(aggregator?.environment?.PASSANT_INFLUX_ORG).toBe(ds.jsonData?.organization);
    expect(aggregator?.environment?.PASSANT_INFLUX_BUCKET).toBe(ds.jsonData?.defaultBucket);
    // token: a variable Grafana expands from its environment, which compose fills with the InfluxDB token of .env
    const tokenVar = ds.secureJsonData?.token?.match(/^\$\{?([A-Z0-9_]+)\}?$/)?.[1];
    expect(tokenVar, 'the token is a variable, not a literal').toBeDefined();
    expect(grafana.environment?.[tokenVar!]).toBe(influxEnv.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
    expect(String(influxEnv.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN)).toMatch(/^\$\{PASSANT_INFLUX_TOKEN:\?[^}]+\}$/);
  });

  const dashboardDirs = providers.providers.map((p) => ({ provider: p, host: hostPathFor(grafana, p.options.path) }));
  const dashboards = dashboardDirs.flatMap(({ host }) =>
    host === null
      ? []
      : fs
          .readdirSync(path.join(REPO_ROOT, host))
          .filter((f) => f.endsWith('.json'))
          .map((f) => ({ file: path.join(host, f), json: JSON.parse(read(path.join(host, f))) as Record<string, unknown> })),
  );

  it('loads the dashboards from a read-only mount of deploy/grafana/dashboards', () => {
    expect(providers.apiVersion).toBe(1);
    expect(dashboardDirs.length).toBeGreaterThan(0);
    for (const { provider, host } of dashboardDirs) {
      expect(provider.type).toBe('file');
      expect(host, `${provider.options.path} is a read-only bind mount of the grafana service`).toBe('deploy/grafana/dashboards');
    }
    expect(dashboards.map((d) => d.file)).toContain('deploy/grafana/dashboards/passant.json');
    // the provisioning folder holds nothing this test does not read
    const files = fs.readdirSync(provisioningDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.map((f) => path.relative(provisioningDir, path.join(f.parentPath, f.name))).sort()).toEqual(['dashboards/passant.yaml', 'datasources/passant.yaml']);
  });

  it('reads only released data in every query, with tags and fields the store writes, and never fills hidden minutes', () => {
    const ds = dataSources.datasources[0]!;
    let checked = 0;
    for (const { file, json } of dashboards) {
      const variables = new Set(((json.templating as { list?: { name: string }[] }).list ?? []).map((v) => v.name));
      const queries = queriesOf(json);
      expect(queries.length, `${file} has queries`).toBeGreaterThan(0);
      // nothing that looks like a query hides elsewhere in the file (e.g. a variable's definition must equal its query)
      const known = new Set(queries.map((q) => q.query));
      for (const s of queryLikeStrings(json)) expect(known.has(s), `${file}: a query outside the targets: ${s.slice(0, 80)}`).toBe(true);
      for (const q of queries) {
        expect(q.datasourceUid, `${file} ${q.where}: data source`).toBe(ds.uid);
        expect(problemsOf(q.query, { bucket: ds.jsonData!.defaultBucket!, variables }), `${file} ${q.where}`).toEqual([]);
        checked++;
      }
    }
    // panels per zone and per site (minute cells and hour rollups each), one query per radio, and the zone variable
    expect(checked).toBe(4 * RADIOS.length + 1);
  });

  it('shows hidden minutes as gaps: no panel connects nulls', () => {
    for (const { file, json } of dashboards) {
      const panels: Record<string, unknown>[] = [];
      const collect = (list: unknown) => {
        for (const p of (list as Record<string, unknown>[] | undefined) ?? []) {
          panels.push(p);
          collect(p.panels);
        }
      };
      collect(json.panels);
      const series = panels.filter((p) => p.type === 'timeseries');
      expect(series.length).toBeGreaterThan(0);
      for (const p of series) {
        const fc = p.fieldConfig as { defaults: { custom?: Record<string, unknown> }; overrides: { properties: { id: string; value: unknown }[] }[] };
        expect(fc.defaults.custom?.spanNulls, `${file} "${String(p.title)}": spanNulls`).toBe(false);
        expect(fc.defaults.custom?.insertNulls ?? false).toBe(false);
        for (const o of fc.overrides) for (const prop of o.properties) expect(prop.id).not.toMatch(/spanNulls|insertNulls/);
      }
      const repeats = new Set(series.map((p) => p.repeat));
      expect(repeats, `${file}: panels per zone and per site`).toEqual(new Set(['zone', 'site']));
    }
  });

  it('lists the sites with the zones deploy/aggregator/passant.yaml gives them', () => {
    const config = YAML.parse(read('deploy/aggregator/passant.yaml')) as { zones: { id: string }[]; sites: { id: string; zones: string[] }[] };
    const dashboard = dashboards.find((d) => d.file === 'deploy/grafana/dashboards/passant.json')!.json;
    const site = (dashboard.templating as { list: Record<string, unknown>[] }).list.find((v) => v.name === 'site')!;
    expect(site.type).toBe('custom');
    const expected = config.sites.map((s) => ({ text: s.id, value: s.zones.join('|') }));
    const fromQuery = String(site.query)
      .split(',')
      .map((pair) => {
        const [text, value] = pair.split(' : ').map((s) => s.trim()) as [string, string];
        return { text, value };
      });
    expect(fromQuery).toEqual(expected);
    expect((site.options as { text: string; value: string }[]).map(({ text, value }) => ({ text, value }))).toEqual(expected);
    const zones = new Set(config.zones.map((z) => z.id));
    for (const s of config.sites) for (const z of s.zones) expect(zones.has(z)).toBe(true);
  });

  it('rejects queries that read raw counts, ungated or unknown fields, or fill hidden minutes (the checker is not blind)', () => {
    const ds = dataSources.datasources[0]!;
    const ctx = { bucket: ds.jsonData!.defaultBucket!, variables: new Set(['zone', 'site']) };
    const dashboard = dashboards.find((d) => d.file === 'deploy/grafana/dashboards/passant.json')!.json;
    const queries = queriesOf(dashboard).map((q) => q.query);
    const cells = queries.find((q) => q.includes(`"${CELLS_MEASUREMENT}"`) && q.includes('wifi_devices'))!;
    const rollups = queries.find((q) => q.includes(`"${ROLLUPS_MEASUREMENT}"`) && q.includes('wifi_sum'))!;
    expect(problemsOf(cells, ctx)).toEqual([]);
    expect(problemsOf(rollups, ctx)).toEqual([]);
    const broken: [string, string][] = [
      ['raw counts', cells.replace(`r._measurement == "${CELLS_MEASUREMENT}"`, `r._measurement == "${MEASUREMENT}"`)],
      ['no measurement', cells.replace(`r._measurement == "${CELLS_MEASUREMENT}" and `, '')],
      ['measurement by regex', cells.replace(`r._measurement == "${CELLS_MEASUREMENT}"`, 'r._measurement =~ /c.*/')],
      ['suppressed cells too', cells.replace('  |> filter(fn: (r) => r.wifi_released == 1)\n', '')],
      ['gate after use', cells.replace('  |> filter(fn: (r) => r.wifi_released == 1)\n', '').replace('  |> yield(', '  |> filter(fn: (r) => r.wifi_released == 1)\n  |> yield(')],
      ['gate before pivot', cells.replace('  |> filter(fn: (r) => r.wifi_released == 1)\n', '').replace('  |> pivot(', '  |> filter(fn: (r) => r.wifi_released == 1)\n  |> pivot(')],
      ['noise field', cells.replace('r._field == "wifi_released"', 'r._field == "wifi_noise"')],
      ['unknown field', cells.replaceAll('wifi_devices', 'wifi_people')],
      ['unknown tag', cells.replace('r.zone ==', 'r.sensor ==')],
      ['zero-filled', cells.replace('createEmpty: true)', 'createEmpty: true)\n  |> fill(value: 0)')],
      ['empty windows dropped', cells.replace('createEmpty: true', 'createEmpty: false')],
      ['another bucket', cells.replace('bucket: "', 'bucket: "x')],
      ['rollups of both steps', rollups.replace(' and r.step == "3600"', '')],
      ['hours without a released minute as 0', rollups.replace('  |> filter(fn: (r) => r.wifi_released > 0)\n', '')],
      ['unknown variable', cells.replace('${zone}', '${zones}')],
      ['InfluxQL', `SELECT * FROM "${MEASUREMENT}"`],
      ['tag values of counts', `import "influxdata/influxdb/schema"\nschema.measurementTagValues(bucket: "${ctx.bucket}", measurement: "${MEASUREMENT}", tag: "sensor")`],
    ];
    for (const [what, query] of broken) {
      expect(query, `${what}: the mutation changed the query`).not.toBe(cells);
      expect(problemsOf(query, ctx).length, `${what} is caught`).toBeGreaterThan(0);
    }
  });
});
