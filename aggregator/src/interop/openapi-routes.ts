/**
 * The open-data and NGSI-LD routes (http/open-data.ts, http/ngsi-ld.ts) as the OpenAPI document lists them, with
 * the schemas of their JSON answers.
 */
import { z } from 'zod';
import { RADIOS } from '@passant/shared';
import type { RouteDoc } from '../http/openapi.ts';
import { NGSI_LD_PARAMS } from '../http/ngsi-ld.ts';
import { OPEN_DATA_PARAMS } from '../http/open-data.ts';

const Nullable = <T extends z.ZodType>(t: T) => t.nullable();
const Iso = z.string().describe('ISO 8601');

export const OpenDataRecordSchema = z
  .strictObject({
    sensor: z.string().describe('the zone id (Passant publishes zones, never single sensors)'),
    naamLocatie: z.string().describe('the zone’s name'),
    periode: z.enum(['uur', 'dag']),
    datumUur: Iso.describe('start of the period, local time with its offset'),
    van: Iso.describe('start, UTC'),
    tot: Iso.describe('end (exclusive), UTC'),
    aantalPassanten: Nullable(z.number().int().min(0)).describe('estimated passers-by in the period (calibrated by manual counts); null without a calibration or without a released minute'),
    aantalPassantenLaag: Nullable(z.number().int().min(0)).describe('low end of the 95 % prediction interval'),
    aantalPassantenHoog: Nullable(z.number().int().min(0)).describe('high end of the 95 % prediction interval'),
    apparaatMinuten: Nullable(z.number().int()).describe('devices heard, summed over the released minutes (not people); null when no minute was released'),
    minuten: z.number().int().min(0).describe('minutes of the period'),
    vrijgegevenMinuten: z.number().int().min(0).describe('minutes released'),
    verborgenMinuten: z.number().int().min(0).describe('minutes hidden (fewer than k devices beyond the static ones)'),
    meting: z.enum(['passanten', 'apparaten']).describe('what the count is: estimated passers-by, or devices only'),
    radio: z.enum(RADIOS),
    gebied: Nullable(z.string()).describe('the zone’s site, when that is public too'),
    geometrie: Nullable(z.strictObject({ type: z.literal('Point'), coordinates: z.tuple([z.number(), z.number()]) })).describe(
      'GeoJSON point, WGS 84 (EPSG:4326), longitude first',
    ),
  })
  .describe('one zone in one hour or local day, in the field names of the Amsterdam crowd monitor dataset "passanten"');

export const OpenDataBodySchema = z.strictObject({
  titel: z.string(),
  licentie: z.string().describe('SPDX id of the licence'),
  licentieUrl: z.string(),
  uitgever: z.string(),
  periode: z.enum(['uur', 'dag']),
  tijdzone: z.string(),
  van: Iso,
  tot: Iso,
  radio: z.enum(RADIOS),
  ruis: z.strictObject({ epsilon: z.number(), mechanism: z.string() }).optional().describe('present when the values carry noise'),
  records: z.array(OpenDataRecordSchema),
});

export const DcatSchema = z
  .object({
    '@context': z.record(z.string(), z.string()),
    '@type': z.literal('dcat:Dataset'),
    'dct:title': z.string(),
    'dct:description': z.string(),
    'dct:publisher': z.object({ 'foaf:name': z.string() }).loose(),
    'dct:license': z.object({ '@id': z.string() }),
    'dct:accrualPeriodicity': z.object({ '@id': z.string() }),
    'dcat:distribution': z.array(z.object({ 'dcat:accessURL': z.object({ '@id': z.string() }), 'dcat:mediaType': z.string() }).loose()),
  })
  .loose()
  .describe('DCAT description of the dataset (JSON-LD)');

export const NgsiLdEntityListSchema = z
  .array(z.object({ id: z.string(), type: z.string() }).loose())
  .describe('CrowdFlowObserved entities (normalized, or key-values with options=keyValues)');

const OPEN_DATA_ACCESS = 'anyone; a token changes nothing (only what auth.public makes public is in it)';

function feedRoutes(name: 'hourly' | 'daily'): RouteDoc[] {
  const what = name === 'hourly' ? 'per hour' : 'per local day (openData.timeZone)';
  const common = { tag: 'open-data', auth: 'public' as const, access: OPEN_DATA_ACCESS, params: OPEN_DATA_PARAMS, errors: [400] };
  return [
    {
      ...common,
      path: `/api/v1/open-data/${name}`,
      operationId: `getOpenData${name === 'hourly' ? 'Hourly' : 'Daily'}`,
      summary: `Open data: released values of the public zones ${what}, estimated passers-by where calibrated, in the Amsterdam crowd monitor’s field names`,
      body: { kind: 'json', schema: OpenDataBodySchema },
    },
    {
      ...common,
      path: `/api/v1/open-data/${name}.csv`,
      operationId: `getOpenData${name === 'hourly' ? 'Hourly' : 'Daily'}Csv`,
      summary: `The same open data ${what} as CSV (an empty cell: nothing released, never 0)`,
      body: { kind: 'csv' },
    },
  ];
}

export const INTEROP_ROUTES: readonly RouteDoc[] = [
  {
    path: '/api/v1/open-data',
    operationId: 'getOpenDataDescription',
    summary: 'DCAT description of the open dataset: title, publisher, licence, update frequency, contact, distributions',
    tag: 'open-data',
    auth: 'public',
    access: OPEN_DATA_ACCESS,
    params: [],
    body: { kind: 'json', schema: DcatSchema },
    errors: [400],
  },
  ...feedRoutes('hourly'),
  ...feedRoutes('daily'),
  {
    path: '/ngsi-ld/v1/entities',
    operationId: 'getNgsiLdEntities',
    summary:
      'FIWARE NGSI-LD: the public zones as CrowdFlowObserved entities over a period (default the last complete hour); peopleCount only where a calibrated estimate exists',
    tag: 'ngsi-ld',
    auth: 'public',
    access: OPEN_DATA_ACCESS,
    params: NGSI_LD_PARAMS,
    body: { kind: 'json', schema: NgsiLdEntityListSchema },
    errors: [400, 401, 429],
  },
  {
    path: '/ngsi-ld/v1/contexts/passant',
    operationId: 'getNgsiLdContext',
    summary: 'The JSON-LD @context of the entities: Passant’s own terms, the Smart Data Models context, the NGSI-LD core context',
    tag: 'ngsi-ld',
    auth: 'public',
    access: 'anyone',
    params: [],
    body: { kind: 'text', mediaType: 'application/ld+json' },
    errors: [400, 401, 429],
  },
];
