/**
 * FIWARE NGSI-LD: the public zones as `CrowdFlowObserved` entities (Smart Data Models, dataModel.Transportation),
 * mounted at /ngsi-ld (after authentication and the rate limit; no token is needed):
 *
 *   GET /ngsi-ld/v1/entities?type=CrowdFlowObserved     every public zone, one entity each
 *   GET /ngsi-ld/v1/contexts/passant                    the JSON-LD @context of the entities (Passant's own terms,
 *                                                       the Smart Data Models context, the NGSI-LD core context)
 *
 * An entity is a zone observed over a period: by default the last complete hour; `q` picks another (NGSI-LD query
 * language, terms joined by `;`): `dateObservedFrom>=2026-12-02T10:00:00Z;dateObservedTo<=2026-12-02T12:00:00Z`
 * (`==` works too; whole hours, UTC or with an offset, quoted or not). `id` (comma-separated entity ids) picks zones;
 * `type` other than CrowdFlowObserved gives none; `attrs` keeps only the named attributes; `limit` (default 20, at
 * most 1000), `offset` and `count=true` (header NGSILD-Results-Count) page; `options=keyValues` (or
 * `format=simplified`) gives the key-values form the FIWARE JSON Schema describes, else the normalized form. A
 * request that accepts application/ld+json gets the @context in each entity, else a Link header to it.
 * `radio` (Passant's): wifi (default) or ble.
 *
 * What an entity holds is what the public reads (interop/feed.ts): released values only, noisy where noise is on.
 * `peopleCount` (passers in the period, an integer) only where the zone has a calibration of kind `passers` and
 * something was released; Passant's own attributes (deviceMinutes, releasedMinutes, hiddenMinutes, radio,
 * peopleCountLow/High) come with their own @context terms. NGSI-LD has no null: an attribute without a value is left
 * out.
 */
import express from 'express';
import type { Request, Response } from 'express';
import { RADIOS } from '@passant/shared';
import type { Radio } from '@passant/shared';
import { HttpError } from '../errors.ts';
import { feedTotals, type FeedDeps, type FeedObservation } from '../interop/feed.ts';
import { isoSeconds } from './csv.ts';
import { rejectUnknownParams, singleParam, type ParamSpec } from './params.ts';

export const ENTITY_TYPE = 'CrowdFlowObserved';
/** The type's expanded IRI in the Smart Data Models context. */
const ENTITY_TYPE_IRI = 'https://smartdatamodels.org/dataModel.Transportation/CrowdFlowObserved';
export const SMART_DATA_MODELS_CONTEXT = 'https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/context.jsonld';
export const NGSI_LD_CORE_CONTEXT = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld';
export const PASSANT_CONTEXT_PATH = '/ngsi-ld/v1/contexts/passant';
const ENTITY_PREFIX = `urn:ngsi-ld:${ENTITY_TYPE}:`;
const HOUR = 3600;
/** Longest period one entity may be observed over. */
export const MAX_PERIOD_DAYS = 31;

/** Passant's own attributes, as JSON-LD terms (IRIs in Passant's namespace). */
export const PASSANT_TERMS: Record<string, string> = {
  deviceMinutes: 'urn:passant:vocab:deviceMinutes',
  releasedMinutes: 'urn:passant:vocab:releasedMinutes',
  hiddenMinutes: 'urn:passant:vocab:hiddenMinutes',
  radio: 'urn:passant:vocab:radio',
  peopleCountLow: 'urn:passant:vocab:peopleCountLow',
  peopleCountHigh: 'urn:passant:vocab:peopleCountHigh',
  calibratedAt: 'urn:passant:vocab:calibratedAt',
};

/** The @context of an entity: Passant's terms, then the data model's, then the NGSI-LD core. */
export function entityContext(): (string | Record<string, string>)[] {
  return [PASSANT_TERMS, SMART_DATA_MODELS_CONTEXT, NGSI_LD_CORE_CONTEXT];
}

export const NGSI_LD_PARAMS: readonly ParamSpec[] = [
  { name: 'type', description: 'entity types, comma-separated: CrowdFlowObserved (any other gives an empty list)', schema: { type: 'string' }, example: 'CrowdFlowObserved' },
  {
    name: 'id',
    description: 'only these entities, comma-separated (urn:ngsi-ld:CrowdFlowObserved:<zone id>)',
    schema: { type: 'string' },
    example: 'urn:ngsi-ld:CrowdFlowObserved:front',
  },
  {
    name: 'q',
    description:
      'the period observed (NGSI-LD query language, terms joined by ;): dateObservedFrom>=<time>;dateObservedTo<=<time> (or ==), whole hours, ISO 8601 (default: the last complete hour)',
    schema: { type: 'string', maxLength: 300 },
    example: 'dateObservedFrom>=2023-11-14T00:00:00Z;dateObservedTo<=2023-11-14T02:00:00Z',
  },
  { name: 'attrs', description: 'only these attributes, comma-separated', schema: { type: 'string' }, example: 'peopleCount,deviceMinutes' },
  { name: 'options', description: 'keyValues (the form the FIWARE JSON Schema describes) or normalized (default); sysAttrs is ignored', schema: { type: 'string' }, example: 'keyValues' },
  { name: 'format', description: 'simplified (= keyValues) or normalized', schema: { type: 'string', enum: ['simplified', 'keyValues', 'normalized'] }, example: 'normalized' },
  { name: 'limit', description: 'most entities (0 to 1000, default 20)', schema: { type: 'string', pattern: '^\\d{1,4}$' }, example: '20' },
  { name: 'offset', description: 'entities to skip (default 0)', schema: { type: 'string', pattern: '^\\d{1,6}$' }, example: '0' },
  { name: 'count', description: 'true: the total number of matching entities in the NGSILD-Results-Count header', schema: { type: 'string', enum: ['true', 'false'] }, example: 'true' },
  { name: 'radio', description: 'Passant: which radio the entities count (default wifi)', schema: { type: 'string', enum: [...RADIOS] }, example: 'wifi' },
];

export type KeyValuesEntity = Record<string, unknown> & { id: string; type: string };

/** The key-values form of an observation. */
export function keyValuesEntity(o: FeedObservation): KeyValuesEntity {
  const from = isoSeconds(o.start);
  const to = isoSeconds(o.end);
  const e: KeyValuesEntity = {
    id: `${ENTITY_PREFIX}${o.zoneId}`,
    type: ENTITY_TYPE,
    name: o.zoneName,
    dateObserved: `${from}/${to}`,
    dateObservedFrom: from,
    dateObservedTo: to,
  };
  if (o.area !== null) e.areaServed = o.area.name;
  if (o.coordinates !== null) e.location = { type: 'Point', coordinates: [o.coordinates.lon, o.coordinates.lat] };
  if (o.passers !== null) {
    e.peopleCount = Math.round(o.passers.value);
    e.peopleCountLow = Math.floor(o.passers.low);
    e.peopleCountHigh = Math.ceil(o.passers.high);
    e.calibratedAt = isoSeconds(o.passers.calibratedAt);
  }
  if (o.deviceMinutes !== null) e.deviceMinutes = o.deviceMinutes;
  e.releasedMinutes = o.releasedMinutes;
  e.hiddenMinutes = o.hiddenMinutes;
  e.radio = o.radio;
  e.dataProvider = 'Passant';
  return e;
}

const DATE_TIMES = new Set(['dateObservedFrom', 'dateObservedTo', 'calibratedAt']);

/** The normalized form: every attribute a Property (dates typed DateTime), the location a GeoProperty. */
export function normalizedEntity(kv: KeyValuesEntity): Record<string, unknown> {
  const out: Record<string, unknown> = { id: kv.id, type: kv.type };
  for (const [key, value] of Object.entries(kv)) {
    if (key === 'id' || key === 'type' || key === '@context') continue;
    if (key === 'location') out[key] = { type: 'GeoProperty', value };
    else if (DATE_TIMES.has(key)) out[key] = { type: 'Property', value: { '@type': 'DateTime', '@value': value } };
    else out[key] = { type: 'Property', value };
  }
  return out;
}

/** Keeps id, type and the named attributes. */
function project(entity: KeyValuesEntity, attrs: readonly string[] | undefined): KeyValuesEntity {
  if (attrs === undefined) return entity;
  const out: KeyValuesEntity = { id: entity.id, type: entity.type };
  for (const a of attrs) if (a in entity && a !== 'id' && a !== 'type') out[a] = entity[a];
  return out;
}

function list(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function dateTime(raw: string, name: string): number {
  const value = raw.replace(/^"(.*)"$/, '$1');
  const m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  const t = m ? Date.parse(value) : NaN;
  if (!Number.isFinite(t)) throw new HttpError(400, 'invalid_parameter', `q: ${name} takes an ISO 8601 date and time with Z or an offset, e.g. 2026-12-02T10:00:00Z`);
  if (t % (HOUR * 1000) !== 0) throw new HttpError(400, 'invalid_parameter', `q: ${name} must be a whole hour`);
  return t / 1000;
}

/**
 * The period a `q` asks for: [from, to) in whole hours. Only terms on dateObservedFrom (>=, ==) and dateObservedTo
 * (<=, ==), joined by `;`. Without a term, the hour before the current one; with only one bound, one hour.
 */
export function parsePeriod(q: string | undefined, now: number): { from: number; to: number } {
  let from: number | undefined;
  let to: number | undefined;
  if (q !== undefined) {
    if (q.length > 300) throw new HttpError(400, 'invalid_parameter', 'q is too long');
    for (const term of q.split(';')) {
      const m = /^\s*(dateObservedFrom|dateObservedTo)\s*(==|>=|<=)\s*(\S+)\s*$/.exec(term);
      if (!m) {
        throw new HttpError(
          400,
          'invalid_parameter',
          'q: only the period can be queried here: dateObservedFrom>=<time> and dateObservedTo<=<time> (or ==), joined by ;',
        );
      }
      const [, attr, op, value] = m;
      if (attr === 'dateObservedFrom' && op === '<=') throw new HttpError(400, 'invalid_parameter', 'q: dateObservedFrom takes >= or ==');
      if (attr === 'dateObservedTo' && op === '>=') throw new HttpError(400, 'invalid_parameter', 'q: dateObservedTo takes <= or ==');
      const t = dateTime(value!, attr!);
      if (attr === 'dateObservedFrom') from = t;
      else to = t;
    }
  }
  const currentHour = Math.floor(now / HOUR) * HOUR;
  if (from === undefined && to === undefined) return { from: currentHour - HOUR, to: currentHour };
  if (from === undefined) from = to! - HOUR;
  if (to === undefined) to = from + HOUR;
  if (to <= from) throw new HttpError(400, 'invalid_range', 'q: dateObservedTo must be after dateObservedFrom');
  if (to - from > MAX_PERIOD_DAYS * 86_400) throw new HttpError(400, 'range_too_large', `q: one period covers at most ${MAX_PERIOD_DAYS} days`);
  return { from, to };
}

function keyValuesWanted(query: Record<string, unknown>): boolean {
  const options = list(singleParam(query, 'options')) ?? [];
  for (const o of options) {
    if (!['keyValues', 'normalized', 'sysAttrs'].includes(o)) throw new HttpError(400, 'invalid_parameter', 'options takes keyValues, normalized or sysAttrs');
  }
  const format = singleParam(query, 'format');
  if (format !== undefined && !['simplified', 'keyValues', 'normalized'].includes(format)) {
    throw new HttpError(400, 'invalid_parameter', 'format takes simplified, keyValues or normalized');
  }
  return format === 'simplified' || format === 'keyValues' || (format === undefined && options.includes('keyValues'));
}

function radioOf(query: Record<string, unknown>): Radio {
  const radio = singleParam(query, 'radio') ?? 'wifi';
  if (!(RADIOS as readonly string[]).includes(radio)) throw new HttpError(400, 'invalid_parameter', `radio must be one of ${RADIOS.join(', ')}`);
  return radio as Radio;
}

function whole(query: Record<string, unknown>, name: string, fallback: number, max: number): number {
  const raw = singleParam(query, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,7}$/.test(raw) || Number(raw) > max) throw new HttpError(400, 'invalid_parameter', `${name} must be a whole number from 0 to ${max}`);
  return Number(raw);
}

export interface NgsiLdRoutesOptions extends FeedDeps {
  now: () => number;
}

export function ngsiLdRoutes(options: NgsiLdRoutesOptions): express.Router {
  const { now } = options;
  const router = express.Router();

  /** JSON-LD in the body when the client asks for application/ld+json first; else JSON with a Link header. */
  function send(req: Request, res: Response, body: unknown, entities: Record<string, unknown>[]): void {
    const ld = req.accepts(['application/json', 'application/ld+json']) === 'application/ld+json';
    if (ld) {
      for (const e of entities) e['@context'] = entityContext();
      res.type('application/ld+json').send(JSON.stringify(body));
      return;
    }
    res.setHeader('Link', `<${PASSANT_CONTEXT_PATH}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`);
    res.json(body);
  }

  async function entitiesOf(query: Record<string, unknown>, zoneIds: readonly string[] | undefined): Promise<KeyValuesEntity[]> {
    const period = parsePeriod(singleParam(query, 'q'), now());
    const attrs = list(singleParam(query, 'attrs'));
    const feed = await feedTotals(options, { ...period, radio: radioOf(query), ...(zoneIds === undefined ? {} : { zones: zoneIds }) });
    return feed.observations.map((o) => project(keyValuesEntity(o), attrs));
  }

  function render(entity: KeyValuesEntity, keyValues: boolean): Record<string, unknown> {
    return keyValues ? { ...entity } : normalizedEntity(entity);
  }

  router.get('/v1/entities', async (req, res) => {
    res.locals.routeBase = '/ngsi-ld';
    const query = req.query as Record<string, unknown>;
    rejectUnknownParams(query, NGSI_LD_PARAMS);
    const keyValues = keyValuesWanted(query);
    const limit = whole(query, 'limit', 20, 1000);
    const offset = whole(query, 'offset', 0, 1_000_000);
    const count = singleParam(query, 'count');
    if (count !== undefined && count !== 'true' && count !== 'false') throw new HttpError(400, 'invalid_parameter', 'count takes true or false');
    const types = list(singleParam(query, 'type'));
    const ids = list(singleParam(query, 'id'));
    const wantsType = types === undefined || types.some((t) => t === ENTITY_TYPE || t === ENTITY_TYPE_IRI);
    const zoneIds = ids?.filter((id) => id.startsWith(ENTITY_PREFIX)).map((id) => id.slice(ENTITY_PREFIX.length));
    // Checks the rest of the query even when nothing can match.
    const all = wantsType && (zoneIds === undefined || zoneIds.length > 0) ? await entitiesOf(query, zoneIds) : (parsePeriod(singleParam(query, 'q'), now()), radioOf(query), []);
    if (count === 'true') res.setHeader('NGSILD-Results-Count', String(all.length));
    const page = all.slice(offset, offset + limit).map((e) => render(e, keyValues));
    send(req, res, page, page);
  });

  router.get('/v1/contexts/passant', (req, res) => {
    res.locals.routeBase = '/ngsi-ld';
    rejectUnknownParams(req.query as Record<string, unknown>, []);
    res.type('application/ld+json').send(JSON.stringify({ '@context': entityContext() }));
  });

  return router;
}
