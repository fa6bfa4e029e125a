/**
 * What every route module works with: the aggregator's parts, who is asking (authentication), who may read what
 * (auth/access.ts), the rate limits, and the one way a route reads counts (`released`, through the release layer).
 *
 * Rate limits (express-rate-limit): per client (its token, else its address), `burst` units in a window of
 * burst / perMinute minutes, so `perMinute` units a minute sustained. Every API request pays 1 unit before it is
 * read; a request that reads many cells pays more once its query is parsed (`charge`): 1 unit per
 * `cellsPerUnit` cells, never more than the burst, taken from the same counter. /healthz and /metrics have
 * counters of their own of the same size.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, MemoryStore, rateLimit } from 'express-rate-limit';
import type { SiteInfoBody, ZoneInfoBody } from '@passant/shared';
import { ANONYMOUS, AccessPolicy, roleOf } from '../../auth/access.ts';
import type { Principal } from '../../auth/access.ts';
import { HttpError } from '../../errors.ts';
import type { ReleasedSeries, SeriesRequest, SeriesTarget } from '../../release/release-layer.ts';
import type { HttpAppOptions } from '../app.ts';
import { seriesEstimator } from '../estimates.ts';
import type { SeriesQueryLimits } from '../series-query.ts';
import { siteSeries } from '../site-series.ts';

type Kind = SeriesTarget['kind'];

export interface RouteContext extends Pick<HttpAppOptions, 'registry' | 'release' | 'live' | 'store' | 'metrics' | 'health' | 'logger' | 'tokens'> {
  options: HttpAppOptions;
  access: AccessPolicy;
  now: () => number;
  /** Unix seconds when the app was made. */
  startedAt: number;
  /** Adds people estimates to a released series where a calibration allows (estimates.ts). */
  estimates: ReturnType<typeof seriesEstimator>;
  /** The OpenAPI document, as served. */
  openApiJson: string;
  /** Open event streams, and how many each client holds. */
  eventStreams: Set<Response>;
  streamsOfClient: Map<string, number>;
  limits(): SeriesQueryLimits;
  principalOf(res: Response): Principal;
  /** Who is asking: ANONYMOUS without credentials; null for a bad or revoked token. */
  authenticate(req: Request, allowQueryToken: boolean): Principal | null;
  invalidToken(): HttpError;
  /** The client a request is counted against: its token, else its address. */
  clientKey(req: Request, principal: Principal): string;
  /** The API's limiter (per res.locals.clientKey); the probes' limiter (per res.locals.probeKey). */
  apiLimit: RequestHandler;
  probeLimit: RequestHandler;
  /** Charges a request's reading cost beyond its 1 unit: 1 unit per cellsPerUnit cells; 429 past the limit. */
  charge(res: Response, cells: number): Promise<void>;
  /** Zones a read of `target` scans for this caller (at least 1: the request itself). */
  zonesRead(res: Response, target: SeriesTarget): number;
  /** The zone or site the caller asked for and may read, with its name; 401/404 otherwise. */
  readable(res: Response, kind: Kind, rawId: unknown): { target: SeriesTarget; name: string };
  requireAccess(res: Response, allowed: (p: Principal) => boolean, what: string, roles: string): void;
  /** The released series of a target as this caller may read it (exact or open data). */
  released(res: Response, target: SeriesTarget, query: SeriesRequest): Promise<ReleasedSeries>;
  readableZones(principal: Principal): ZoneInfoBody[];
  /** The configured zones of site `id` that the caller may read (undefined: no such site). */
  readableZonesOfSite(principal: Principal, id: string): string[] | undefined;
  /** The sites the caller may read, each as `siteInfo` gives it. */
  readableSites(principal: Principal): SiteInfoBody[];
  siteInfo(principal: Principal, id: string): SiteInfoBody | undefined;
}

function quoteId(id: string): string {
  return JSON.stringify(id.slice(0, 80));
}

export function createRouteContext(options: HttpAppOptions, openApiJson: string): RouteContext {
  const { registry, release, tokens } = options;
  const now = options.now ?? (() => Date.now() / 1000);
  // What is public as configured now: the configuration at start until a live reload changes it.
  if (registry.publicAccess === undefined) registry.setPublicAccess(options.publicAccess ?? { zones: 'none', sites: 'none', privacyPage: true });
  const access = new AccessPolicy(() => registry.publicAccess!, {
    ownersOf: (zoneId) => registry.zone(zoneId)?.owners ?? [],
    zonesOfSite: (siteId) => registry.site(siteId)?.zones ?? [],
  });
  const perMinute = options.rateLimitPerMinute ?? 600;
  const burst = Math.max(1, options.rateLimitBurst ?? 120);
  const cellsPerUnit = options.rateLimitCellsPerUnit ?? 1440;
  // (at most a day: timers take no more than 2^31 ms)
  const windowMs = perMinute > 0 ? Math.min(86_400_000, Math.max(1000, Math.round((burst / perMinute) * 60_000))) : 60_000;

  const principalOf = (res: Response): Principal => (res.locals.principal as Principal | undefined) ?? ANONYMOUS;

  const rateLimited = (res: Response, resetTime: Date | undefined): HttpError => {
    const seconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + windowMs) - Date.now()) / 1000));
    res.setHeader('Retry-After', String(seconds));
    return new HttpError(429, 'rate_limited', `too many requests; try again in ${seconds} s`);
  };

  const limiter = (store: MemoryStore, localsKey: 'clientKey' | 'probeKey'): RequestHandler =>
    rateLimit({
      windowMs,
      limit: burst,
      store,
      skip: () => perMinute <= 0,
      keyGenerator: (_req, res) => String(res.locals[localsKey]),
      handler: (req: Request, res: Response, next: NextFunction) => {
        next(rateLimited(res, (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime));
      },
      standardHeaders: false,
      legacyHeaders: false,
      // The key is made by clientKey below (addresses through ipKeyGenerator); X-Forwarded-For is trusted only as
      // http.trustProxyHops says, which is this app's decision, not a mistake to warn about.
      validate: { keyGeneratorIpFallback: false, xForwardedForHeader: false },
    });
  const apiStore = new MemoryStore();
  const apiLimit = limiter(apiStore, 'clientKey');
  const probeLimit = limiter(new MemoryStore(), 'probeKey');

  const ctx: RouteContext = {
    options,
    registry,
    release,
    live: options.live,
    store: options.store,
    metrics: options.metrics,
    health: options.health,
    logger: options.logger,
    tokens,
    access,
    now,
    startedAt: now(),
    estimates: seriesEstimator({ release, registry, access, calibrations: options.calibrations, now }),
    openApiJson,
    eventStreams: new Set<Response>(),
    streamsOfClient: new Map<string, number>(),
    limits: () => ({ now: now(), maxBuckets: options.maxSeriesBuckets, maxRangeSeconds: options.maxSeriesRangeDays * 86_400 }),
    principalOf,

    authenticate(req, allowQueryToken) {
      const query = req.query as Record<string, unknown>;
      const header = req.headers.authorization;
      // accessToken, or access_token (its name before query keys were camelCase); validateQuery refuses both at once
      const fromQuery = allowQueryToken ? (query.accessToken ?? query.access_token) : undefined;
      let presented: string | null | undefined;
      if (header !== undefined) {
        const match = /^Bearer +(\S+) *$/i.exec(header);
        presented = match ? match[1]! : null;
        if (fromQuery !== undefined) throw new HttpError(400, 'invalid_parameter', 'send the token once: in the Authorization header or as accessToken, not both');
      } else if (fromQuery !== undefined) {
        presented = typeof fromQuery === 'string' ? fromQuery : null;
      }
      if (presented === undefined) return ANONYMOUS;
      const token = presented === null || tokens === undefined ? null : tokens.verify(presented, now());
      return token === null ? null : { kind: 'token', token };
    },

    invalidToken() {
      return new HttpError(401, 'invalid_token', 'the token is not valid (unknown, revoked, expired or malformed); send Authorization: Bearer <token>');
    },

    clientKey(req, principal) {
      return principal.kind === 'token' ? `token:${principal.token.id}` : `ip:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? '?')}`;
    },

    apiLimit,
    probeLimit,

    async charge(res, cells) {
      if (perMinute <= 0) return;
      // The request has paid 1 already: at most burst - 1 more, so that every valid request fits a full window.
      const extra = Math.min(Math.floor(cells / cellsPerUnit), burst - 1);
      const key = String(res.locals.clientKey);
      for (let i = 0; i < extra; i++) {
        const info = await apiStore.increment(key);
        if (info.totalHits > burst) throw rateLimited(res, info.resetTime);
      }
    },

    zonesRead(res, target) {
      if (target.kind === 'zone') return 1;
      return Math.max(1, access.readableZonesOf(principalOf(res), registry.site(target.id)?.zones ?? []).length);
    },

    readable(res, kind, rawId) {
      const id = String(rawId);
      const principal = principalOf(res);
      if (!canRead(principal, kind, id)) throw denied(principal, kind, id);
      const entry = kind === 'zone' ? registry.zone(id) : registry.site(id);
      if (entry === undefined) throw notFound(kind, id);
      return { target: { kind, id }, name: entry.name };
    },

    requireAccess(res, allowed, what, roles) {
      const principal = principalOf(res);
      if (allowed(principal)) return;
      if (principal.kind === 'anonymous') throw new HttpError(401, 'authentication_required', `${what} needs a token (Authorization: Bearer <token>)`);
      throw new HttpError(403, 'forbidden', `${what} is for ${roles}; this token's role is ${roleOf(principal)}`);
    },

    /**
     * Admin tokens, and viewer tokens for the zones and sites they name, get exact released values; everything else
     * is read as open data (noisy when noise is on).
     */
    async released(res, target, query) {
      const principal = principalOf(res);
      const exact = access.grantsExact(principal, target);
      if (target.kind === 'site') {
        // Only the zones this caller may read: a site is never a way to a zone (see auth/access.ts).
        const zones = ctx.readableZonesOfSite(principal, target.id);
        if (zones === undefined) throw notFound(target.kind, target.id);
        return siteSeries(release, zones, query, exact);
      }
      const series = await release.series(target, query, { exact });
      if (series === undefined) throw notFound(target.kind, target.id);
      return series;
    },

    readableZones(principal) {
      return registry
        .allZones()
        .filter((zone) => access.canReadZone(principal, zone.id))
        .map((zone) => ({
          id: zone.id,
          name: zone.name,
          coordinates: zone.coordinates ? { lat: zone.coordinates.lat, lon: zone.coordinates.lon } : null,
          site: siteIfReadable(principal, registry.siteOf(zone.id)),
        }));
    },

    readableZonesOfSite(principal, id) {
      const site = registry.site(id);
      return site === undefined ? undefined : access.readableZonesOf(principal, site.zones.filter((zoneId) => registry.zone(zoneId) !== undefined));
    },

    readableSites(principal) {
      return registry
        .listSites()
        .filter((s) => access.canReadSite(principal, s.id))
        .map((s) => ctx.siteInfo(principal, s.id)!);
    },

    /** A site as the caller may see it: only the zones it may read are listed (others are not shown to exist). */
    siteInfo(principal, id) {
      const site = registry.site(id);
      if (site === undefined) return undefined;
      const coordinates = site.coordinates;
      return {
        id: site.id,
        name: site.name,
        coordinates: coordinates ? { lat: coordinates.lat, lon: coordinates.lon } : null,
        zones: site.zones.filter((zoneId) => access.canReadZone(principal, zoneId)),
      };
    },
  };

  /** A 401 without a token, else the 404 an unknown id gets: a token holder cannot probe what exists. */
  function denied(principal: Principal, kind: Kind, id: string): HttpError {
    if (principal.kind === 'anonymous') {
      return new HttpError(401, 'authentication_required', `reading ${kind} ${quoteId(id)} needs a token (Authorization: Bearer <token>)`);
    }
    return notFound(kind, id);
  }

  function notFound(kind: Kind, id: string): HttpError {
    return new HttpError(404, `${kind}_not_found`, `no ${kind} ${quoteId(id)}; GET /api/v1/${kind}s lists them`);
  }

  function canRead(principal: Principal, kind: Kind, id: string): boolean {
    return kind === 'zone' ? access.canReadZone(principal, id) : access.canReadSite(principal, id);
  }

  /** A zone's site id, when the caller may read that site (else the site's existence is not shown). */
  function siteIfReadable(principal: Principal, siteId: string | undefined): string | null {
    return siteId !== undefined && access.canReadSite(principal, siteId) ? siteId : null;
  }

  return ctx;
}
