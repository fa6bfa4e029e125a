/**
 * The open-data feed, mounted under /api/v1 (after authentication and the rate limit; no token is needed):
 *
 *   GET /open-data               a DCAT description of the dataset (title, publisher, licence, update frequency, contact,
 *                                distributions)
 *   GET /open-data/hourly        per public zone and hour: JSON
 *   GET /open-data/hourly.csv    the same as CSV
 *   GET /open-data/daily         per public zone and local day (openData.timeZone): JSON
 *   GET /open-data/daily.csv     the same as CSV
 *
 * What is in it is what anyone may read without a token, whoever asks (a token changes nothing here): the public zones,
 * their released values as the public series gives them (noisy where noise is on), and estimated passers-by where a
 * zone has a calibration of kind `passers` (interop/feed.ts). The records use the field names of the Amsterdam crowd
 * monitor's open dataset "passanten" (sensor, naamLocatie, periode, datumUur, aantalPassanten, gebied, geometrie), so a
 * city can publish it beside its own; Passant's own fields follow the same style. Passant publishes per zone, never
 * per sensor: `sensor` holds the zone id. A bucket where nothing was released has null values, never 0; a bucket
 * with no data at all is left out.
 */
import express from 'express';
import type { Response } from 'express';
import { RADIOS } from '@passant/shared';
import type { Radio } from '@passant/shared';
import { HttpError } from '../errors.ts';
import type { NoiseInfo } from '../release/release-layer.ts';
import { bucketStart, isoLocal, isTimeZone, startOfLocalDate } from '../release/calendar.ts';
import type { OpenDataConfig } from '../interop/config.ts';
import { feedObservations, type FeedDeps, type FeedObservation, type FeedPeriod } from '../interop/feed.ts';
import { csvText, isoSeconds } from './csv.ts';
import { rejectUnknownParams, singleParam, type ParamSpec } from './params.ts';

export interface OpenDataRoutesOptions extends FeedDeps {
  config: OpenDataConfig;
  now: () => number;
}

const HOUR = 3600;
/** Longest hourly request, in days (a month of hours per zone). */
export const MAX_HOURLY_DAYS = 31;

export const OPEN_DATA_PARAMS: readonly ParamSpec[] = [
  {
    name: 'from',
    description:
      'start: Unix seconds or a date YYYY-MM-DD (local midnight in the feed’s time zone); hourly: aligned down to the hour, daily: to the local day (default: hourly the last 24 complete hours, daily the last 7 complete days)',
    schema: { type: 'string', pattern: '^(\\d{1,12}|\\d{4}-\\d{2}-\\d{2})$' },
    example: '2026-01-05',
  },
  {
    name: 'to',
    description: 'end (exclusive): Unix seconds or a date YYYY-MM-DD (default: the start of the current hour or local day)',
    schema: { type: 'string', pattern: '^(\\d{1,12}|\\d{4}-\\d{2}-\\d{2})$' },
    example: '2026-01-06',
  },
  { name: 'radio', description: 'which radio (default wifi)', schema: { type: 'string', enum: [...RADIOS] }, example: 'wifi' },
  { name: 'zone', description: 'only this public zone (its id, the records’ `sensor`)', schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' }, example: 'marktplein' },
];

/** One record, in the Amsterdam crowd monitor's field names and Passant's own beside them. */
export interface OpenDataRecord {
  /** The zone id (Passant publishes zones, never single sensors). */
  sensor: string;
  naamLocatie: string;
  periode: 'uur' | 'dag';
  /** Start of the period, local time with its offset. */
  datumUur: string;
  /** Start and end (exclusive) in UTC. */
  van: string;
  tot: string;
  /** Estimated passers-by in the period (calibrated), or null: without a calibration, the period has devices only. */
  aantalPassanten: number | null;
  aantalPassantenLaag: number | null;
  aantalPassantenHoog: number | null;
  /** Devices heard, summed over the released minutes (a device heard for 10 minutes counts 10 times): not people. */
  apparaatMinuten: number | null;
  /** Minutes of the period, released minutes, hidden minutes (fewer than k devices beyond the static ones). */
  minuten: number;
  vrijgegevenMinuten: number;
  verborgenMinuten: number;
  /** What the count is: 'passanten' (estimated passers-by) or 'apparaten' (devices only). */
  meting: 'passanten' | 'apparaten';
  radio: Radio;
  /** The zone's site, when that is public too. */
  gebied: string | null;
  geometrie: { type: 'Point'; coordinates: [number, number] } | null;
}

export interface OpenDataBody {
  titel: string;
  licentie: string;
  licentieUrl: string;
  uitgever: string;
  periode: 'uur' | 'dag';
  tijdzone: string;
  van: string;
  tot: string;
  radio: Radio;
  ruis?: NoiseInfo;
  records: OpenDataRecord[];
}

const CSV_FIELDS = [
  'sensor',
  'naamLocatie',
  'periode',
  'datumUur',
  'van',
  'tot',
  'aantalPassanten',
  'aantalPassantenLaag',
  'aantalPassantenHoog',
  'apparaatMinuten',
  'minuten',
  'vrijgegevenMinuten',
  'verborgenMinuten',
  'meting',
  'radio',
  'gebied',
  'geometrie',
] as const satisfies readonly (keyof OpenDataRecord)[];

export function openDataRecord(o: FeedObservation, timeZone: string): OpenDataRecord {
  return {
    sensor: o.zoneId,
    naamLocatie: o.zoneName,
    periode: o.period === 'hour' ? 'uur' : 'dag',
    datumUur: isoLocal(o.start, timeZone),
    van: isoSeconds(o.start),
    tot: isoSeconds(o.end),
    aantalPassanten: o.passers === null ? null : Math.round(o.passers.value),
    aantalPassantenLaag: o.passers === null ? null : Math.floor(o.passers.low),
    aantalPassantenHoog: o.passers === null ? null : Math.ceil(o.passers.high),
    apparaatMinuten: o.deviceMinutes,
    minuten: o.minutes,
    vrijgegevenMinuten: o.releasedMinutes,
    verborgenMinuten: o.hiddenMinutes,
    meting: o.passers === null ? 'apparaten' : 'passanten',
    radio: o.radio,
    gebied: o.area?.name ?? null,
    // GeoJSON: longitude first, WGS 84 (EPSG:4326)
    geometrie: o.coordinates === null ? null : { type: 'Point', coordinates: [o.coordinates.lon, o.coordinates.lat] },
  };
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object') return csvText(JSON.stringify(value));
  return csvText(String(value));
}

/** The records as CSV (RFC 4180, CRLF); an empty cell is null (nothing released), never 0. */
export function openDataCsv(records: readonly OpenDataRecord[]): string {
  const lines = [CSV_FIELDS.join(',')];
  for (const r of records) lines.push(CSV_FIELDS.map((f) => csvCell(r[f])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** A time parameter: Unix seconds or YYYY-MM-DD (local midnight in `timeZone`). */
function timeParam(query: Record<string, unknown>, name: string, timeZone: string): number | undefined {
  const raw = singleParam(query, name);
  if (raw === undefined) return undefined;
  if (/^\d{1,12}$/.test(raw)) return Number(raw);
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  if (m) {
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const check = new Date(Date.UTC(year, month - 1, day));
    if (year >= 1970 && check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day) {
      return startOfLocalDate(year, month, day, timeZone);
    }
  }
  throw new HttpError(400, 'invalid_parameter', `${name} must be Unix seconds or a date YYYY-MM-DD, got ${JSON.stringify(raw.slice(0, 40))}`);
}

export interface ParsedOpenDataQuery {
  from: number;
  to: number;
  radio: Radio;
  zone?: string;
}

/** Parses and checks a feed query; defaults: the last 24 complete hours, or the last 7 complete local days. */
export function parseOpenDataQuery(query: Record<string, unknown>, period: FeedPeriod, timeZone: string, now: number, maxDays: number): ParsedOpenDataQuery {
  rejectUnknownParams(query, OPEN_DATA_PARAMS);
  const radioRaw = singleParam(query, 'radio') ?? 'wifi';
  if (!(RADIOS as readonly string[]).includes(radioRaw)) throw new HttpError(400, 'invalid_parameter', `radio must be one of ${RADIOS.join(', ')}`);
  const zone = singleParam(query, 'zone');
  if (zone !== undefined && !/^[a-z0-9][a-z0-9-]{0,63}$/.test(zone)) throw new HttpError(400, 'invalid_parameter', 'zone must be a zone id (a-z, 0-9 and -)');
  const align = (t: number) => (period === 'hour' ? Math.floor(t / HOUR) * HOUR : bucketStart(t, 'day', timeZone));
  const toRaw = timeParam(query, 'to', timeZone);
  const fromRaw = timeParam(query, 'from', timeZone);
  const current = align(now);
  const to = toRaw ?? (fromRaw !== undefined ? Math.min(current, fromRaw + (period === 'hour' ? 86_400 : 7 * 86_400)) : current);
  let from = fromRaw ?? (period === 'hour' ? align(to - 1) - 23 * HOUR : to - 7 * 86_400);
  from = align(from);
  if (to <= from) throw new HttpError(400, 'invalid_range', 'to must be after from');
  const limitDays = period === 'hour' ? Math.min(maxDays, MAX_HOURLY_DAYS) : maxDays;
  if (to - from > limitDays * 86_400 + 3600) {
    throw new HttpError(400, 'range_too_large', `one request covers at most ${limitDays} days${period === 'hour' ? ' of hours (use daily for longer periods)' : ''}`);
  }
  const out: ParsedOpenDataQuery = { from, to, radio: radioRaw as Radio };
  if (zone !== undefined) out.zone = zone;
  return out;
}

/** The DCAT description of the dataset (JSON-LD with the DCAT, Dublin Core, FOAF and vCard vocabularies). */
export function dcatDescription(config: OpenDataConfig, base = '/api/v1/open-data'): Record<string, unknown> {
  const distributions = (['hourly', 'daily'] as const).flatMap((what) =>
    (['json', 'csv'] as const).map((format) => ({
      '@type': 'dcat:Distribution',
      'dct:title': `${what === 'hourly' ? 'per hour' : `per day (${config.timeZone})`}, ${format.toUpperCase()}`,
      'dcat:accessURL': { '@id': `${base}/${what}${format === 'csv' ? '.csv' : ''}` },
      'dcat:mediaType': format === 'csv' ? 'text/csv' : 'application/json',
      'dct:license': { '@id': config.licenseUrl },
    })),
  );
  const contact =
    config.contact === undefined
      ? undefined
      : config.contact.includes('@') && !/^https?:/i.test(config.contact)
        ? { '@type': 'vcard:Kind', 'vcard:fn': config.publisher, 'vcard:hasEmail': { '@id': `mailto:${config.contact}` } }
        : { '@type': 'vcard:Kind', 'vcard:fn': config.publisher, 'vcard:hasURL': { '@id': config.contact } };
  return {
    '@context': {
      dcat: 'http://www.w3.org/ns/dcat#',
      dct: 'http://purl.org/dc/terms/',
      foaf: 'http://xmlns.com/foaf/0.1/',
      vcard: 'http://www.w3.org/2006/vcard/ns#',
    },
    '@type': 'dcat:Dataset',
    'dct:title': config.title,
    'dct:description': config.description,
    'dct:publisher': { '@type': 'foaf:Agent', 'foaf:name': config.publisher },
    'dct:license': { '@id': config.licenseUrl },
    'dct:rights': config.license,
    // new hours are released every hour (a minute is released once its sensors reported or settleSeconds passed)
    'dct:accrualPeriodicity': { '@id': 'http://publications.europa.eu/resource/authority/frequency/HOURLY' },
    ...(contact === undefined ? {} : { 'dcat:contactPoint': contact }),
    'dcat:keyword': ['passanten', 'drukte', 'foot traffic', 'crowd monitoring'],
    'dcat:distribution': distributions,
  };
}

export function openDataRoutes(options: OpenDataRoutesOptions): express.Router {
  const { config, now } = options;
  if (!isTimeZone(config.timeZone)) throw new RangeError(`openData.timeZone: unknown time zone ${config.timeZone}`);
  const router = express.Router();

  router.get('/open-data', (req, res) => {
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    res.json(dcatDescription(config));
  });

  async function body(query: Record<string, unknown>, period: FeedPeriod): Promise<OpenDataBody> {
    const q = parseOpenDataQuery(query, period, config.timeZone, now(), config.maxDays);
    const feed = await feedObservations(options, {
      from: q.from,
      to: q.to,
      period,
      radio: q.radio,
      timeZone: config.timeZone,
      ...(q.zone === undefined ? {} : { zones: [q.zone] }),
    });
    const out: OpenDataBody = {
      titel: config.title,
      licentie: config.license,
      licentieUrl: config.licenseUrl,
      uitgever: config.publisher,
      periode: period === 'hour' ? 'uur' : 'dag',
      tijdzone: config.timeZone,
      van: isoSeconds(q.from),
      tot: isoSeconds(q.to),
      radio: q.radio,
      records: feed.observations.map((o) => openDataRecord(o, config.timeZone)),
    };
    if (feed.noise) out.ruis = feed.noise;
    return out;
  }

  function license(res: Response): void {
    res.setHeader('Link', `<${config.licenseUrl}>; rel="license"`);
  }

  for (const [name, period] of [
    ['hourly', 'hour'],
    ['daily', 'day'],
  ] as const) {
    router.get(`/open-data/${name}`, async (req, res) => {
      const b = await body(req.query as Record<string, unknown>, period);
      license(res);
      res.json(b);
    });
    router.get(`/open-data/${name}.csv`, async (req, res) => {
      const b = await body(req.query as Record<string, unknown>, period);
      license(res);
      if (b.ruis) res.setHeader('X-Passant-Noise', `mechanism=${b.ruis.mechanism}; epsilon=${b.ruis.epsilon}`);
      res
        .status(200)
        .type('text/csv; charset=utf-8')
        .setHeader('Content-Disposition', `attachment; filename="passant-passanten-${name}-${b.radio}.csv"`)
        .send(openDataCsv(b.records));
    });
  }

  return router;
}
