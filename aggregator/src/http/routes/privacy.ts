/**
 * For the privacy officer and the public: the privacy page, audit totals and the access log (who read what). None
 * of them holds counts of people.
 */
import { z } from 'zod';
import type { AuditBody, PrivacyInfoBody } from '@passant/shared';
import { countsMessageJsonSchema, RADIOS } from '@passant/shared';
import { AuditSchema, PrivacyInfoSchema, REJECT_REASONS } from '@passant/shared/api-schemas';
import { addTotals, auditCounters, type AccessQuery } from '../../access-log/access-log.ts';
import { roleOf, type Principal } from '../../auth/access.ts';
import { HttpError } from '../../errors.ts';
import { ACCESS_LOG_QUERY, NO_QUERY } from '../params.ts';
import type { RouteContext } from './context.ts';
import type { RouteSpec } from './types.ts';

/** The privacy page's suppressed share is computed over this period and kept this long. */
const SUPPRESSED_SHARE_PERIOD_SECONDS = 86_400;
const SUPPRESSED_SHARE_CACHE_SECONDS = 300;

const AccessLogSchema = z.strictObject({
  retentionDays: z.number().int(),
  entries: z.array(
    z.strictObject({
      at: z.number().int(),
      tokenId: z.string(),
      role: z.string(),
      method: z.string(),
      path: z.string(),
      targetKind: z.enum(['zone', 'site']).nullable(),
      targetId: z.string().nullable(),
      from: z.number().int().nullable(),
      to: z.number().int().nullable(),
      status: z.number().int(),
    }),
  ),
});

/** Per context, per set of readable zones (a few: public, each viewer's, all). */
const shareCaches = new WeakMap<RouteContext, Map<string, { at: number; value: PrivacyInfoBody['suppressedShare'] }>>();

/** The share of suppressed cells over the zones the caller may read (not over the others: access composes). */
async function suppressedShare(ctx: RouteContext, principal: Principal): Promise<PrivacyInfoBody['suppressedShare']> {
  const { registry, release, access } = ctx;
  let shareCache = shareCaches.get(ctx);
  if (shareCache === undefined) shareCaches.set(ctx, (shareCache = new Map()));
  const at = ctx.now();
  const zones = registry.listZones().filter((zone) => access.canReadZone(principal, zone.id));
  const cacheKey = zones.map((zone) => zone.id).join(',');
  const cached = shareCache.get(cacheKey);
  if (cached && at - cached.at < SUPPRESSED_SHARE_CACHE_SECONDS) return cached.value;
  const to = Math.floor(at / 60) * 60;
  const from = to - SUPPRESSED_SHARE_PERIOD_SECONDS;
  const value: PrivacyInfoBody['suppressedShare'] = { periodSeconds: SUPPRESSED_SHARE_PERIOD_SECONDS, wifi: null, ble: null };
  for (const radio of RADIOS) {
    let releasedCells = 0;
    let suppressedCells = 0;
    for (const zone of zones) {
      const series = await release.series({ kind: 'zone', id: zone.id }, { from, to, step: 60, radio }, { exact: true });
      if (series === undefined) continue;
      for (let i = 0; i < series.t.length; i++) {
        if (series.devices[i] !== null) releasedCells++;
        suppressedCells += series.suppressed[i] ?? 0;
      }
    }
    const total = releasedCells + suppressedCells;
    value[radio] = total === 0 ? null : Math.round((suppressedCells / total) * 10_000) / 10_000;
  }
  if (shareCache.size >= 100) shareCache.clear();
  shareCache.set(cacheKey, { at, value });
  return value;
}

export const PRIVACY_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/v1/privacy',
    operationId: 'getPrivacyInfo',
    summary: 'The privacy page: k, settle time, retention, suppressed share, public access, the counts message schema',
    tag: 'privacy',
    auth: 'public-configurable',
    access: 'anyone while auth.public.privacyPage is true (the default); else admin and privacy tokens',
    query: NO_QUERY,
    body: { kind: 'json', schema: PrivacyInfoSchema },
    errors: [400, 401, 403],
    guard: (ctx, _req, res) =>
      ctx.requireAccess(res, (p) => ctx.access.canSeePrivacyPage(p), 'the privacy page', 'admin and privacy tokens (auth.public.privacyPage is off)'),
    handle: (ctx) => async (_req, res) => {
      const { release, access } = ctx;
      const body: PrivacyInfoBody = {
        k: release.k,
        windowSeconds: release.windowSeconds,
        settleSeconds: release.settleSeconds,
        retention: ctx.options.retention ?? {},
        noise: release.noiseInfo,
        suppressedShare: await suppressedShare(ctx, ctx.principalOf(res)),
        publicAccess: {
          zones: access.public.zones === 'all' || access.public.zones === 'none' ? access.public.zones : [...access.public.zones],
          sites: access.public.sites === 'all' || access.public.sites === 'none' ? access.public.sites : [...access.public.sites],
        },
        countsSchema: countsMessageJsonSchema(),
      };
      res.json(body);
    },
  },
  {
    method: 'get',
    path: '/api/v1/privacy/audit',
    operationId: 'getAudit',
    summary: 'Audit data: counts messages stored, duplicate and rejected by reason, status messages, tokens by role',
    tag: 'privacy',
    auth: 'token',
    access: 'admin and privacy tokens',
    query: NO_QUERY,
    body: { kind: 'json', schema: AuditSchema },
    errors: [400, 401, 403],
    guard: (ctx, _req, res) => ctx.requireAccess(res, (p) => ctx.access.canSeeAudit(p), 'audit data', 'admin and privacy tokens'),
    handle: (ctx) => (_req, res) => {
      // Totals since the first start: earlier runs' totals (kept in the access log's file) plus this process's counters.
      const totals = addTotals(ctx.options.auditBase ?? {}, auditCounters(ctx.metrics, REJECT_REASONS));
      const tokenCounts = { viewer: 0, admin: 0, privacy: 0, revoked: 0 };
      for (const t of ctx.tokens?.list() ?? []) {
        if (t.revokedAt !== null) tokenCounts.revoked++;
        else tokenCounts[t.role]++;
      }
      const body: AuditBody = {
        since: Math.floor(totals.since ?? ctx.startedAt),
        ingest: {
          stored: totals.stored ?? 0,
          duplicate: totals.duplicate ?? 0,
          rejected: Object.fromEntries(REJECT_REASONS.map((reason) => [reason, totals[`rejected:${reason}`] ?? 0])) as Record<
            (typeof REJECT_REASONS)[number],
            number
          >,
        },
        statusMessages: {
          accepted: totals.statusAccepted ?? 0,
          rejected: totals.statusRejected ?? 0,
        },
        tokens: tokenCounts,
      };
      res.json(body);
    },
  },
  {
    method: 'get',
    path: '/api/v1/privacy/access-log',
    operationId: 'getAccessLog',
    summary: 'The access log: who read what (token id and role, route, zone or site, period asked for, status), newest first',
    tag: 'privacy',
    auth: 'token',
    access: 'privacy tokens (the privacy officer); admin tokens too',
    query: ACCESS_LOG_QUERY,
    body: { kind: 'json', schema: AccessLogSchema },
    errors: [400, 401, 403, 503],
    guard: (ctx, _req, res) =>
      ctx.requireAccess(res, (p) => roleOf(p) === 'privacy' || roleOf(p) === 'admin', 'the access log', 'privacy and admin tokens'),
    handle: (ctx) => (req, res) => {
      const accessLog = ctx.options.accessLog;
      if (accessLog === undefined) throw new HttpError(503, 'access_log_unavailable', 'this aggregator keeps no access log');
      // Checked against ACCESS_LOG_QUERY already (digits, a token id): here only what a pattern cannot say.
      const query = req.query as Record<string, string | undefined>;
      if (query.limit !== undefined && (Number(query.limit) < 1 || Number(query.limit) > 10_000)) {
        throw new HttpError(400, 'invalid_parameter', 'limit must be a whole number from 1 to 10000');
      }
      const q: AccessQuery = {};
      if (query.from !== undefined) q.from = Number(query.from);
      if (query.to !== undefined) q.to = Number(query.to);
      if (query.token !== undefined) q.tokenId = query.token;
      if (query.limit !== undefined) q.limit = Number(query.limit);
      res.json({ retentionDays: accessLog.retentionDays, entries: accessLog.query(q) });
    },
  },
];
