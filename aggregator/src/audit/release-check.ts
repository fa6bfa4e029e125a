/**
 * The audit's attack on the release layer of a live deployment, with the privacy officer's token: every series
 * route the token can read (from the API's OpenAPI document), for every zone and site it can read, both radios,
 * minute, hour and day steps, aligned and unaligned ranges, CSV and comparisons too, over a period. The minute
 * series name the base cells (released with their value, or suppressed); zones of a readable site that the
 * token cannot read are unknown cells for every minute. The differencing solver (differencing.ts) then tries to
 * pin any suppressed or unreadable cell to a value: an honest release layer leaves such cells out of every
 * output, so the only value it can determine for one is 0. A cell pinned to any other value is recovered.
 */
import type { Radio } from '@passant/shared';
import { attack, type Cell, type Equation } from './differencing.ts';

const RADIOS = ['wifi', 'ble'] as const;
const STEPS = [60, 3600, 86_400] as const;

export interface ReleaseCheckOptions {
  apiUrl: string;
  token: string;
  /** Period, Unix seconds, minute-aligned; [from, to). */
  from: number;
  to: number;
  fetch?: typeof fetch;
}

export interface ReleaseCheckResult {
  requests: number;
  routes: string[];
  zones: string[];
  sites: string[];
  /** Zones of readable sites that the token cannot read. */
  hiddenZones: string[];
  cells: number;
  suppressedCells: number;
  equations: number;
  determined: number;
  /** Suppressed or unreadable cells pinned to a value other than 0 (where, which radio, how; never the value). */
  recovered: { zone: string; t: number; radio: Radio; how: string }[];
  /** Routes that answered with an error (path and status). */
  errors: string[];
}

interface OpenApi {
  /** The base URL of the paths (`/api/v1`; a path item may name its own). */
  servers?: { url: string }[];
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }> & { servers?: { url: string }[] }>;
}

interface SeriesBody {
  t: number[];
  devices: (number | null)[];
  suppressed: number[];
}

export async function releaseCheck(options: ReleaseCheckOptions): Promise<ReleaseCheckResult> {
  const doFetch = options.fetch ?? fetch;
  const headers = { authorization: `Bearer ${options.token}` };
  let requests = 0;
  const errors: string[] = [];
  const get = async (url: string): Promise<Response | null> => {
    let res: Response;
    for (let attempt = 0; ; attempt++) {
      requests++;
      res = await doFetch(`${options.apiUrl}${url}`, { headers });
      // the API's rate limit: wait as long as it asks (the audit reads many series), then ask again
      if (res.status !== 429 || attempt >= 30) break;
      await res.arrayBuffer();
      const wait = Math.min(60, Math.max(1, Number(res.headers.get('retry-after')) || 1));
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
    if (res.status !== 200) {
      errors.push(`${url.split('?')[0]}: HTTP ${res.status}`);
      await res.arrayBuffer();
      return null;
    }
    return res;
  };
  const json = async <T>(url: string): Promise<T | null> => {
    const res = await get(url);
    return res === null ? null : ((await res.json()) as T);
  };

  const { from, to } = options;
  const zones = ((await json<{ id: string }[]>('/api/v1/zones')) ?? []).map((z) => z.id);
  const sites = (await json<{ id: string; zones: string[] }[]>('/api/v1/sites')) ?? [];
  const doc = (await json<OpenApi>('/api/v1/openapi.json')) ?? { paths: {} };
  // whole paths (`/api/v1/zones/{id}/series`): the document's paths are relative to its server (or their own)
  const baseOf = (item: { servers?: { url: string }[] }): string => (item.servers?.[0]?.url ?? doc.servers?.[0]?.url ?? '').replace(/\/$/, '');
  const operations = new Map(
    Object.entries(doc.paths)
      .filter(([, item]) => item.get !== undefined)
      .map(([p, item]) => [`${baseOf(item)}${p}`, item.get!] as const),
  );
  const routes = [...operations.keys()];

  // base cells: every readable zone's minute series; unknown cells for hidden zones of readable sites
  const cells: Cell[] = [];
  const minutes: number[] = [];
  for (let t = from; t < to; t += 60) minutes.push(t);
  for (const zone of zones) {
    for (const radio of RADIOS) {
      const body = await json<SeriesBody>(`/api/v1/zones/${zone}/series?from=${from}&to=${to}&step=60&radio=${radio}`);
      if (body === null) continue;
      body.t.forEach((t, i) => {
        const v = body.devices[i];
        if (v !== null && v !== undefined) cells.push({ zone, t, radio, value: v, released: true });
        else if ((body.suppressed[i] ?? 0) > 0) cells.push({ zone, t, radio, value: Number.NaN, released: false });
      });
    }
  }
  const hiddenZones = [...new Set(sites.flatMap((s) => s.zones).filter((z) => !zones.includes(z)))];
  for (const zone of hiddenZones) {
    for (const radio of RADIOS) for (const t of minutes) cells.push({ zone, t, radio, value: Number.NaN, released: false });
  }

  const equations: Equation[] = [];
  const targets = [
    ...zones.map((id) => ({ kind: 'zones', id, zones: [id] })),
    ...sites.map((s) => ({ kind: 'sites', id: s.id, zones: s.zones })),
  ];
  const push = (zoneIds: string[], radio: Radio, step: number, t: number[], devices: (number | null)[], source: string) => {
    t.forEach((bucket, i) => {
      const v = devices[i];
      if (v !== null && v !== undefined) equations.push({ radio, zones: zoneIds, from: bucket, to: bucket + step, value: v, source });
    });
  };
  const ranges = (step: number): [number, number][] => {
    const start = Math.floor(from / step) * step;
    const end = Math.ceil(to / step) * step;
    return [
      [start, end],
      [start + Math.floor(step / 2), end - Math.floor(step / 3)], // unaligned: the API floors them
    ];
  };
  for (const route of routes) {
    const kind = route.startsWith('/api/v1/zones/{id}') ? 'zones' : route.startsWith('/api/v1/sites/{id}') ? 'sites' : null;
    if (kind === null) continue;
    const names = new Set((operations.get(route)!.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
    if (!names.has('from') || !names.has('step')) continue;
    for (const target of targets.filter((t) => t.kind === kind)) {
      const base = route.replace('{id}', target.id);
      for (const radio of RADIOS) {
        for (const step of STEPS) {
          for (const [a, b] of ranges(step)) {
            const res = await get(`${base}?from=${a}&to=${b}&step=${step}&radio=${radio}`);
            if (res === null) continue;
            if (route.endsWith('.csv')) {
              const [header, ...lines] = (await res.text()).trim().split(/\r?\n/);
              // by name: a calibrated zone's CSV has estimate columns after these
              const columns = header!.split(',');
              const unixAt = columns.indexOf('unix');
              const devicesAt = columns.indexOf('devices');
              const t: number[] = [];
              const devices: (number | null)[] = [];
              for (const line of lines) {
                // the columns after the name: a quoted name may hold commas
                const cols = line.split(',').slice(-(columns.length - 2));
                t.push(Number(cols[unixAt - 2]));
                const d = cols[devicesAt - 2]!;
                devices.push(d === '' ? null : Number(d));
              }
              push(target.zones, radio, step, t, devices, 'csv');
            } else if (route.endsWith('/compare-periods')) {
              // both sides (the period and the one it is compared against), their totals, and a site's zone totals
              type Side = { t: number[]; devices: (number | null)[]; total: number | null; from: number; to: number };
              const body = (await res.json()) as { period: Side; against: Side; zones?: { id: string; period: { total: number | null }; against: { total: number | null } }[] };
              for (const key of ['period', 'against'] as const) {
                const p = body[key];
                push(target.zones, radio, step, p.t, p.devices, 'compare-periods');
                if (p.total !== null) equations.push({ radio, zones: target.zones, from: p.from, to: p.to, value: p.total, source: 'compare-periods total' });
                for (const zone of body.zones ?? []) {
                  const total = zone[key].total;
                  if (total !== null) equations.push({ radio, zones: [zone.id], from: p.from, to: p.to, value: total, source: 'compare-periods zone total' });
                }
              }
            } else if (route.endsWith('/compare')) {
              const body = (await res.json()) as Record<string, { t: number[]; devices: (number | null)[]; total: number | null }>;
              for (const key of ['current', 'previous', 'lastWeek']) {
                const p = body[key];
                if (!p) continue;
                push(target.zones, radio, step, p.t, p.devices, 'compare');
                if (p.total !== null && p.t.length > 0) {
                  equations.push({ radio, zones: target.zones, from: p.t[0]!, to: p.t.at(-1)! + step, value: p.total, source: 'compare total' });
                }
              }
            } else {
              const body = (await res.json()) as SeriesBody;
              push(target.zones, radio, step, body.t, body.devices, 'series');
            }
          }
        }
      }
    }
  }

  // only the period's cells are unknowns; outputs reaching outside it hold cells the attack does not model
  const inside = equations.filter((e) => e.from >= from && e.to <= to);
  const result = attack(cells, inside);
  const seen = new Set<string>();
  const recovered: ReleaseCheckResult['recovered'] = [];
  for (const d of result.determinedCells) {
    if (d.value === 0) continue;
    const key = `${d.cell.zone}@${d.cell.t}/${d.cell.radio}`;
    if (seen.has(key)) continue;
    seen.add(key);
    recovered.push({ zone: d.cell.zone, t: d.cell.t, radio: d.cell.radio, how: d.how });
  }
  return {
    requests,
    routes: routes.filter((r) => r.includes('/zones/{id}') || r.includes('/sites/{id}')),
    zones,
    sites: sites.map((s) => s.id),
    hiddenZones,
    cells: cells.length,
    suppressedCells: cells.filter((c) => !c.released).length,
    equations: result.equations,
    determined: result.determined,
    recovered,
    errors,
  };
}
