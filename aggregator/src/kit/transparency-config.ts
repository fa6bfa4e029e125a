/**
 * The `transparency` section of the aggregator's config: what the transparency kit (`passant-aggregator kit`)
 * needs beyond the technical settings: who is responsible, why, on what legal ground, where the public privacy
 * page is, and where each sensor hangs and until when. Every key is optional: what is not set is printed in the
 * kit as a choice the organisation still has to make.
 */
import { SensorIdSchema } from '@passant/shared';
import { z } from 'zod';

const Text = (max: number) => z.string().trim().min(1).max(max);
const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'must be a real date');
const HttpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL');

export const LEGAL_GROUNDS = ['public-task', 'legitimate-interests', 'consent'] as const;
export type LegalGround = (typeof LEGAL_GROUNDS)[number];

const SensorPlacementSchema = z.strictObject({
  id: SensorIdSchema.describe('sensor id (as in zones[].sensors)'),
  lat: z.number().min(-90).max(90).describe('latitude, WGS 84 degrees'),
  lon: z.number().min(-180).max(180).describe('longitude, WGS 84 degrees'),
  location: Text(300).optional().describe('where it hangs, in words (street, number, mounting)'),
  area: Text(200).optional().describe('the area it counts (default: its zone\'s name)'),
  activeUntil: IsoDate.optional().describe('last day it may count, YYYY-MM-DD'),
});

export const TransparencyConfigSchema = z
  .strictObject({
    controller: z
      .strictObject({
        name: Text(200).optional().describe('the organisation responsible for the counting (controller, GDPR art. 4(7))'),
        address: Text(300).optional().describe("the controller's postal address"),
        email: Text(200).optional().describe('where residents can ask questions about the counting'),
        phone: Text(50).optional().describe("the controller's phone number"),
        website: HttpUrl.optional().describe("the controller's website"),
        dpo: Text(300).optional().describe('contact of the data protection officer (name or e-mail)'),
      })
      .prefault({})
      .describe('who is responsible (printed in the kit; unset: marked as to be filled in)'),
    purpose: Text(1000).optional().describe('why passers-by are counted, in one or two sentences (the organisation\'s choice)'),
    legalGround: z
      .enum(LEGAL_GROUNDS)
      .optional()
      .describe("legal ground under GDPR art. 6(1): 'public-task' (e), 'legitimate-interests' (f) or 'consent' (a); the organisation's choice"),
    legalGroundDetail: Text(1000).optional().describe('the task or interest the legal ground rests on, in words'),
    privacyPageUrl: HttpUrl.optional().describe('public privacy page the street sign\'s QR code points to'),
    tileUrl: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL template with {z}, {x} and {y}')
      .default('https://tile.openstreetmap.org/{z}/{x}/{y}.png')
      .describe('map tile URL template of the public sensor register ({z}/{x}/{y}); the page lists the sensors without tiles too'),
    tileAttribution: Text(300)
      .default('© OpenStreetMap contributors')
      .describe('attribution shown on the register map for the tiles'),
    sensors: z
      .array(SensorPlacementSchema)
      .max(10_000)
      .default([])
      .describe('placement of each sensor for the public register: [{ id, lat, lon, location?, area?, activeUntil? }]'),
  })
  .prefault({})
  .describe('the transparency kit: controller, purpose, legal ground, privacy page, map and sensor placements');

export type TransparencyConfig = z.infer<typeof TransparencyConfigSchema>;
