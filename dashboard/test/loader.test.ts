// The loader (src/loader.ts) against a fake `fetch` that records every request and answers from a small table:
// which resources a load asks for, that it asks for each once, in which order, and what it does when a request
// is refused (401) or fails.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, useToken, type Me, type SiteInfo, type Target, type ZoneInfo } from '../src/api.ts';
import { askMeEarly, loadDetails, loadOverview, targetKey, type LoadHost, type LoadOutcome, type Prefetched } from '../src/loader.ts';

const WIN = { from: 1_700_000_000, to: 1_700_007_200, step: 60 } as const;

const PUBLIC_ALL: Me = { role: 'public', name: null, zones: 'all', sites: 'all', health: false, audit: false, admin: false };
const PUBLIC_NONE: Me = { ...PUBLIC_ALL, zones: [], sites: [] };
const ZONES = [
  { id: 'markt', name: 'Markt', site: 'centrum' },
  { id: 'brug', name: 'Brug', site: 'centrum' },
];
const SITES = [{ id: 'centrum', name: 'Centrum', zones: ['markt', 'brug'] }];
const SERIES = { t: [WIN.from], devices: [7], suppressed: [0] };
const EMPTY_PERIOD = { from: WIN.from, to: WIN.to, total: null, suppressedCells: 0, t: [], devices: [], suppressed: [] };
const COMPARISON = { radio: 'wifi', step: 3600, current: EMPTY_PERIOD, previous: { ...EMPTY_PERIOD, change: null }, lastWeek: { ...EMPTY_PERIOD, change: null } };
const profile = (tz: string) => ({
  weeks: 4,
  tz,
  radio: 'wifi',
  from: WIN.from,
  to: WIN.to,
  mean: Array(168).fill(null),
  hours: Array(168).fill(0),
  suppressed: Array(168).fill(0),
});

type Answer = { status: number; body: unknown } | 'network-error';

interface FakeServer {
  /** Every request's path and query, in the order they were made. */
  requests: string[];
  /** Answers by path (without the query); anything else is a 404. */
  routes: Map<string, Answer | ((url: URL) => Answer)>;
  /** Requests whose answer waits until released (by path). */
  held: Map<string, () => void>;
  /** Zones a site's answer with `include=zones` leaves out (no longer readable as part of it). */
  leftOutOfSites: Set<string>;
}

function fakeServer(): FakeServer {
  const server: FakeServer = {
    requests: [],
    routes: new Map<string, Answer | ((url: URL) => Answer)>([
      ['/api/v1/me', { status: 200, body: PUBLIC_ALL }],
      ['/api/v1/zones', { status: 200, body: ZONES }],
      ['/api/v1/sites', { status: 200, body: SITES }],
      ['/api/v1/marked-periods', { status: 200, body: { events: [] } }],
      ['/api/v1/sites/centrum/series', { status: 200, body: SERIES }],
      ['/api/v1/zones/markt/series', { status: 200, body: SERIES }],
      ['/api/v1/zones/brug/series', { status: 200, body: SERIES }],
    ]),
    held: new Map(),
    leftOutOfSites: new Set(),
  };
  vi.stubGlobal('fetch', async (input: string) => {
    const url = new URL(input, 'http://dashboard.test/');
    server.requests.push(`${url.pathname}${url.search}`);
    const hold = [...server.held.keys()].find((p) => p === url.pathname);
    if (hold !== undefined) await new Promise<void>((resolve) => server.held.set(hold, resolve));
    const answerOf = (path: string): Answer => {
      const route = server.routes.get(path);
      return typeof route === 'function' ? route(url) : (route ?? { status: 404, body: { code: 'not_found', detail: 'no such route' } });
    };
    let answer = answerOf(url.pathname);
    if (answer === 'network-error') throw new TypeError('fetch failed');
    if (url.pathname === '/api/v1/me' && url.searchParams.get('include') === 'zones,sites' && answer.status === 200) {
      // as the aggregator does: the lists /zones and /sites give, empty where the reader may read none
      const me = answer.body as Me;
      const list = (path: string, scope: Me['zones']) => {
        const listed = answerOf(path);
        return scope !== 'all' && scope.length === 0 ? [] : listed !== 'network-error' && listed.status === 200 ? listed.body : [];
      };
      answer = { status: 200, body: { ...me, included: { zones: list('/api/v1/zones', me.zones), sites: list('/api/v1/sites', me.sites) } } };
    }
    const site = /^\/api\/v1\/sites\/([^/]+)\/series$/.exec(url.pathname);
    if (site !== null && url.searchParams.get('include') === 'zones' && answer.status === 200) {
      // as the aggregator does: the site's zones' series beside its own (those the fake can answer)
      const listed = (SITES.find((s) => s.id === site[1])?.zones ?? []).filter((id) => !server.leftOutOfSites.has(id)).flatMap((id) => {
        const own = answerOf(`/api/v1/zones/${id}/series`);
        return own !== 'network-error' && own.status === 200 ? [{ id, series: own.body }] : [];
      });
      answer = { status: 200, body: { ...(answer.body as object), zones: listed } };
    }
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } });
  });
  return server;
}

/** A page stand-in: records what the loader told it, in order. */
function fakeHost(options: { me?: Me | null; token?: boolean; liveSettled?: Promise<void> | null; current?: () => boolean } = {}) {
  const log: string[] = [];
  let me = options.me ?? null;
  let zones: ZoneInfo[] = [];
  let sites: SiteInfo[] = [];
  const host: LoadHost = {
    isCurrent: options.current ?? (() => true),
    me: () => me,
    hasToken: () => options.token ?? false,
    gotMe: (m) => {
      me = m;
      log.push('me');
    },
    openLive: () => log.push('openLive'),
    liveSettled: () => options.liveSettled ?? null,
    gotLists: (z, s) => {
      zones = z;
      sites = s;
      log.push(`lists ${z.length} zones, ${s.length} sites`);
    },
    seriesPlan: () => ({
      win: WIN,
      radio: 'wifi',
      targets: [...sites.map((s): Target => ({ kind: 'site', id: s.id })), ...zones.map((z): Target => ({ kind: 'zone', id: z.id }))],
      siteZones: new Map(sites.map((s) => [s.id, s.zones])),
    }),
    buildCards: () => {
      log.push('cards');
      return sites.length + zones.length;
    },
    showSeries: async (prefetched: Prefetched) => {
      const results = await Promise.allSettled([...prefetched.series.values()]);
      log.push(`series ${[...prefetched.series.keys()].join(' ')}`);
      return results.every((r) => r.status === 'fulfilled' || !(r.reason instanceof ApiError && r.reason.status === 0));
    },
    gotEvents: (events) => log.push(`events ${events.length}`),
  };
  return { host, log };
}

const pathOf = (request: string) => request.split('?')[0];

let server: FakeServer;
beforeEach(() => {
  server = fakeServer();
  useToken(null);
});
afterEach(() => {
  vi.unstubAllGlobals();
  useToken(null);
});

describe('loadOverview', () => {
  it('asks for me with the zones and sites in one request, then the site with its zones in one, and the marked periods, each once', async () => {
    const { host, log } = fakeHost();
    const outcome = await loadOverview(host);
    expect(outcome).toEqual<LoadOutcome>({ kind: 'shown', ok: true });
    const paths = server.requests.map(pathOf);
    expect(server.requests[0]).toBe('/api/v1/me?include=zones,sites');
    expect(paths).not.toContain('/api/v1/zones');
    expect(paths).not.toContain('/api/v1/sites');
    expect(new Set(paths.slice(1))).toEqual(new Set(['/api/v1/sites/centrum/series', '/api/v1/marked-periods']));
    expect(paths).toHaveLength(new Set(paths).size); // each resource once
    expect(server.requests).toContain(`/api/v1/sites/centrum/series?from=${WIN.from}&to=${WIN.to}&step=60&radio=wifi&include=zones`);
    expect(log).toEqual(['me', 'openLive', 'lists 2 zones, 1 sites', 'cards', 'openLive', 'series site:centrum zone:markt zone:brug', 'events 0']);
    // no comparison or heatmap before the first figures: the page asks for those after
    expect(paths.some((p) => p.endsWith('/compare') || p.endsWith('/profile'))).toBe(false);
  });

  it('in a later load (the reader known) asks zones and sites at the same time: the second goes out before the first is answered', async () => {
    server.held.set('/api/v1/zones', () => {});
    const { host } = fakeHost({ me: PUBLIC_ALL });
    const load = loadOverview(host);
    await vi.waitFor(() => expect(server.requests.map(pathOf)).toContain('/api/v1/sites'));
    expect(server.requests.map(pathOf)).toEqual(['/api/v1/zones', '/api/v1/sites']);
    server.held.get('/api/v1/zones')!();
    expect((await load).kind).toBe('shown');
  });

  it('takes the answer to me asked early (before the page was built) instead of asking again, once', async () => {
    askMeEarly();
    expect(server.requests).toEqual(['/api/v1/me?include=zones,sites']);
    const first = fakeHost();
    await loadOverview(first.host);
    expect(server.requests.filter((r) => pathOf(r) === '/api/v1/me')).toHaveLength(1);
    expect(first.log.slice(0, 3)).toEqual(['me', 'openLive', 'lists 2 zones, 1 sites']);
    await loadOverview(fakeHost().host); // a later load (another reader) asks again
    expect(server.requests.filter((r) => pathOf(r) === '/api/v1/me')).toHaveLength(2);
  });

  it('does not ask for me again when the page knows who the reader is', async () => {
    const { host } = fakeHost({ me: PUBLIC_ALL });
    await loadOverview(host);
    expect(server.requests.map(pathOf)).not.toContain('/api/v1/me');
    expect(server.requests.map(pathOf).slice(0, 2).sort()).toEqual(['/api/v1/sites', '/api/v1/zones']);
  });

  it('asks for no series before the event stream has opened or failed', async () => {
    let open = () => {};
    const liveSettled = new Promise<void>((resolve) => (open = resolve));
    const { host, log } = fakeHost({ liveSettled });
    const load = loadOverview(host);
    await vi.waitFor(() => expect(log).toContain('lists 2 zones, 1 sites'));
    expect(server.requests.map(pathOf)).toEqual(['/api/v1/me']);
    open();
    expect((await load).kind).toBe('shown');
    expect(server.requests.filter((r) => r.includes('/series'))).toHaveLength(1); // the site, with its zones
  });

  it("asks on its own for a zone in no site, and for a zone the site's answer leaves out", async () => {
    server.routes.set('/api/v1/zones', { status: 200, body: [...ZONES, { id: 'haven', name: 'Haven', site: null }] });
    server.routes.set('/api/v1/zones/haven/series', { status: 200, body: SERIES });
    server.leftOutOfSites.add('brug');
    const { host, log } = fakeHost();
    expect(await loadOverview(host)).toEqual({ kind: 'shown', ok: true });
    const series = server.requests.filter((r) => r.includes('/series')).map(pathOf);
    expect(series.sort()).toEqual(['/api/v1/sites/centrum/series', '/api/v1/zones/brug/series', '/api/v1/zones/haven/series']);
    expect(log).toContain('series site:centrum zone:markt zone:brug zone:haven');
  });

  it('locks without a token when the server answers 401, and asks for nothing else', async () => {
    server.routes.set('/api/v1/me', { status: 401, body: { code: 'token_required', detail: 'a token is needed' } });
    const { host, log } = fakeHost();
    expect(await loadOverview(host)).toEqual({ kind: 'locked' });
    expect(server.requests.map(pathOf)).toEqual(['/api/v1/me']);
    expect(log).toEqual([]);
  });

  it('locks when a public reader may read nothing (only me is asked)', async () => {
    server.routes.set('/api/v1/me', { status: 200, body: PUBLIC_NONE });
    const { host } = fakeHost();
    expect(await loadOverview(host)).toEqual({ kind: 'locked' });
    expect(server.requests.map(pathOf)).toEqual(['/api/v1/me']);
  });

  it('says the token was refused when the server answers 401 invalid_token to a token in use', async () => {
    useToken('pst_test_token');
    server.routes.set('/api/v1/zones', { status: 401, body: { code: 'invalid_token', detail: 'revoked' } });
    const { host } = fakeHost({ me: PUBLIC_ALL, token: true });
    expect(await loadOverview(host)).toEqual({ kind: 'refused' });
    expect(server.requests.some((r) => r.includes('/series'))).toBe(false);
  });

  it('fails with the server error when the zone list fails in a later load, and asks for no series', async () => {
    server.routes.set('/api/v1/zones', { status: 500, body: { code: 'internal', detail: 'boom' } });
    const { host, log } = fakeHost({ me: PUBLIC_ALL });
    const outcome = await loadOverview(host);
    expect(outcome.kind).toBe('failed');
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(500);
    expect(log).toEqual(['openLive']);
    expect(server.requests.some((r) => r.includes('/series'))).toBe(false);
  });

  it('fails as unreachable when me gets no answer', async () => {
    server.routes.set('/api/v1/me', 'network-error');
    const { host } = fakeHost();
    const outcome = await loadOverview(host);
    expect(outcome.kind).toBe('failed');
    expect(((outcome as { error: unknown }).error as ApiError).status).toBe(0);
  });

  it('reports a series without an answer (not ok), and still shows the marked periods', async () => {
    server.routes.set('/api/v1/zones/brug/series', 'network-error');
    const { host, log } = fakeHost();
    expect(await loadOverview(host)).toEqual({ kind: 'shown', ok: false });
    expect(log.at(-1)).toBe('events 0');
  });

  it('shows no events when the marked periods fail, and the figures all the same', async () => {
    server.routes.set('/api/v1/marked-periods', { status: 500, body: { code: 'internal', detail: 'no events database' } });
    const { host, log } = fakeHost();
    expect(await loadOverview(host)).toEqual({ kind: 'shown', ok: true });
    expect(log.at(-1)).toBe('events 0');
  });

  it('says so when there is nothing to show (no zones, no sites)', async () => {
    server.routes.set('/api/v1/zones', { status: 200, body: [] });
    server.routes.set('/api/v1/sites', { status: 200, body: [] });
    const { host } = fakeHost();
    expect(await loadOverview(host)).toEqual({ kind: 'empty' });
    expect(server.requests.some((r) => r.includes('/series'))).toBe(false);
  });

  it('stops when a newer load took over while me was on its way', async () => {
    let current = true;
    server.routes.set('/api/v1/me', () => {
      current = false; // a newer load starts meanwhile
      return { status: 200, body: PUBLIC_ALL };
    });
    const { host, log } = fakeHost({ current: () => current });
    expect(await loadOverview(host)).toEqual({ kind: 'stale' });
    expect(server.requests.map(pathOf)).toEqual(['/api/v1/me']);
    expect(log).toEqual([]);
  });

  it('keys targets by kind and id', () => {
    expect(targetKey({ kind: 'site', id: 'markt' })).not.toBe(targetKey({ kind: 'zone', id: 'markt' }));
  });
});

describe('loadDetails', () => {
  it('asks for the week comparison and the heatmap at the same time', async () => {
    server.routes.set('/api/v1/zones/markt/compare', { status: 200, body: COMPARISON });
    server.routes.set('/api/v1/zones/markt/profile', (url) => ({ status: 200, body: profile(url.searchParams.get('tz')!) }));
    server.held.set('/api/v1/zones/markt/compare', () => {});
    const wednesdayNoon = Date.UTC(2024, 0, 17, 12); // far enough into the week for a comparison
    const details = loadDetails({ kind: 'zone', id: 'markt' }, 'wifi', 'Europe/Amsterdam', wednesdayNoon);
    await vi.waitFor(() => expect(server.requests.map(pathOf)).toContain('/api/v1/zones/markt/profile'));
    server.held.get('/api/v1/zones/markt/compare')!();
    const { comparison, heat, tz } = await details;
    expect(comparison.status).toBe('fulfilled');
    expect(heat.status).toBe('fulfilled');
    expect(tz).toBe('Europe/Amsterdam');
    expect(server.requests).toContain('/api/v1/zones/markt/profile?weeks=4&radio=wifi&tz=Europe%2FAmsterdam');
  });

  it('asks for the heatmap in UTC when the server does not know the time zone', async () => {
    server.routes.set('/api/v1/zones/markt/compare', { status: 200, body: COMPARISON });
    server.routes.set('/api/v1/zones/markt/profile', (url) =>
      url.searchParams.get('tz') === 'UTC'
        ? { status: 200, body: profile('UTC') }
        : { status: 400, body: { code: 'invalid_time_zone', detail: 'unknown time zone' } },
    );
    const { heat, tz } = await loadDetails({ kind: 'zone', id: 'markt' }, 'wifi', 'Mars/Olympus', Date.UTC(2024, 0, 17, 12));
    expect(heat.status).toBe('fulfilled');
    expect(tz).toBe('UTC');
    expect(server.requests.filter((r) => r.startsWith('/api/v1/zones/markt/profile'))).toEqual([
      '/api/v1/zones/markt/profile?weeks=4&radio=wifi&tz=Mars%2FOlympus',
      '/api/v1/zones/markt/profile?weeks=4&radio=wifi&tz=UTC',
    ]);
  });

  it('keeps a failed comparison apart from the heatmap', async () => {
    server.routes.set('/api/v1/zones/markt/compare', { status: 500, body: { code: 'internal', detail: 'boom' } });
    server.routes.set('/api/v1/zones/markt/profile', { status: 200, body: profile('UTC') });
    const { comparison, heat } = await loadDetails({ kind: 'zone', id: 'markt' }, 'wifi', 'UTC', Date.UTC(2024, 0, 17, 12));
    expect(comparison.status).toBe('rejected');
    expect(heat.status).toBe('fulfilled');
  });
});
