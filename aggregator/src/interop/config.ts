/**
 * Configuration of the open-data feed (http/open-data.ts) and of FIWARE NGSI-LD (http/ngsi-ld.ts, interop/ngsi-push.ts):
 * the `openData` and `ngsiLd` blocks of the aggregator's config (config.ts includes them).
 */
import { z } from 'zod';
import { isTimeZone } from '../release/calendar.ts';

const TimeZoneSchema = z.string().min(1).max(64).refine(isTimeZone, { message: 'must be an IANA time zone name, e.g. Europe/Amsterdam' });

export const OpenDataConfigSchema = z
  .strictObject({
    title: z.string().min(1).max(200).default('Passanten (Passant)').describe('title of the open dataset (DCAT dct:title)'),
    description: z
      .string()
      .min(1)
      .max(2000)
      .default(
        'Released foot-traffic counts of the public zones, per hour and per day: devices heard (Wi-Fi or Bluetooth) and, where a calibration by manual counts exists, estimated passers-by. Minutes with fewer than k devices are left out, never shown as 0.',
      )
      .describe('description of the open dataset (DCAT dct:description)'),
    publisher: z.string().min(1).max(200).default('Passant').describe('who publishes the dataset, e.g. the municipality (DCAT dct:publisher)'),
    contact: z
      .string()
      .min(3)
      .max(300)
      .optional()
      .describe('contact point of the dataset: an e-mail address or a URL (DCAT dcat:contactPoint); unset: none is given'),
    license: z.string().min(1).max(100).default('CC-BY-4.0').describe('licence of the published data (SPDX id)'),
    licenseUrl: z
      .string()
      .url()
      .default('https://creativecommons.org/licenses/by/4.0/')
      .describe('URL of the licence text (DCAT dct:license)'),
    timeZone: TimeZoneSchema.default('Europe/Amsterdam').describe('time zone of the daily buckets and of the local times in the feed (IANA name)'),
    maxDays: z.number().int().min(1).max(3660).default(366).describe('longest period one open-data request may ask for, in days'),
  })
  .prefault({})
  .describe('the open-data feed of the public zones (/api/v1/open-data)');

export const NgsiLdConfigSchema = z
  .strictObject({
    push: z
      .strictObject({
        enabled: z.boolean().default(false).describe('push CrowdFlowObserved entities of the public zones to a context broker on a timer'),
        brokerUrl: z
          .string()
          .url()
          .optional()
          .describe('base URL of the NGSI-LD context broker (entities go to <brokerUrl>/ngsi-ld/v1/entityOperations/upsert); needed when push is enabled'),
        tenant: z.string().min(1).max(100).optional().describe('NGSILD-Tenant header sent to the broker (unset: the default tenant)'),
        intervalSeconds: z.number().int().min(60).max(86_400).default(3600).describe('how often the last complete hour of every public zone is pushed'),
        timeoutMs: z.number().int().min(100).max(120_000).default(10_000).describe('time limit of one upsert request'),
        radio: z.enum(['wifi', 'ble']).default('wifi').describe('which radio the pushed entities count'),
      })
      .prefault({})
      .describe('pushing entities to a context broker (off by default)'),
  })
  .prefault({})
  .superRefine((value, ctx) => {
    if (value.push.enabled && value.push.brokerUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['push', 'brokerUrl'], message: 'ngsiLd.push is enabled: set the context broker URL' });
    }
  })
  .describe('FIWARE NGSI-LD: CrowdFlowObserved entities of the public zones (/ngsi-ld/v1/entities) and the optional push');

export type OpenDataConfig = z.infer<typeof OpenDataConfigSchema>;
export type NgsiLdConfig = z.infer<typeof NgsiLdConfigSchema>;
