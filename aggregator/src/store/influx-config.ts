/**
 * Settings of the InfluxDB store. The aggregator's config schema embeds `InfluxConfigSchema` as its InfluxDB
 * section; every key has a default (or is optional) and a description.
 */
import { z } from 'zod';

export const INFLUX_API_VERSIONS = ['v2', 'v1'] as const;
export type InfluxApiVersion = (typeof INFLUX_API_VERSIONS)[number];

const name = z.string().min(1).max(255);

export const InfluxConfigSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .default('http://127.0.0.1:8086')
      .describe('base URL of the InfluxDB server (no /api/v2 suffix)'),
    apiVersion: z
      .enum(INFLUX_API_VERSIONS)
      .default('v2')
      .describe(
        'write protocol: v2 writes to /api/v2/write (InfluxDB 2.x, 3.x, Cloud, 1.8+); v1 writes to /write?db= (InfluxDB 1.x, also before 1.8). Reads use InfluxQL on /query in both',
      ),
    org: name.default('passant').describe('v2: organization written to (InfluxDB 1.8 and 3.x ignore it)'),
    bucket: name
      .default('passant')
      .describe('v2: bucket written to (InfluxDB 1.8: "database/retention-policy"; 3.x: the database)'),
    database: name
      .default('passant')
      .describe('database that InfluxQL reads on /query use (2.x: the DBRP mapping of the bucket); v1: also the database written to'),
    retentionPolicy: name.optional().describe('v1: retention policy for writes and reads; unset: the database default'),
    token: z
      .string()
      .min(1)
      .optional()
      .describe('secret: API token, sent as "Authorization: Token ..." (2.x, 3.x, Cloud; 1.8+ also takes "user:password")'),
    username: z.string().min(1).optional().describe('v1 with auth enabled: user name (HTTP basic auth); set together with password'),
    password: z.string().min(1).optional().describe('secret: v1 with auth enabled: password (HTTP basic auth)'),
    timeoutMs: z.number().int().min(100).max(600_000).default(10_000).describe('time limit of one HTTP request'),
    writeBatchLines: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(5_000)
      .describe('at most this many points per write request (InfluxData recommends 5000)'),
  })
  .superRefine(
    (c, ctx) => {
      if ((c.username === undefined) !== (c.password === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'set username and password together', path: [c.username === undefined ? 'username' : 'password'] });
      }
      if (c.token !== undefined && c.username !== undefined) {
        ctx.addIssue({ code: 'custom', message: 'set either token or username/password, not both', path: ['token'] });
      }
    },
    // also when other keys are invalid, so that start-up lists every problem at once
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

/** Parsed settings (all defaults filled in). */
export type InfluxConfig = z.infer<typeof InfluxConfigSchema>;
/** Settings as written in a config file: every key optional. */
export type InfluxConfigInput = z.input<typeof InfluxConfigSchema>;
