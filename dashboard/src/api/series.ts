/** Who am I, zones and sites, and a zone's or site's series, week comparison, hour-of-week profile and CSV. */
import type { SeriesQuery } from '@passant/shared';
import { bad, currentToken, ensureOk, getJson, request } from './http.ts';
import { isComparison, isMe, isProfile, isRecord, isSeriesResponse, isSiteInfo, isZoneInfo } from './checks.ts';
import type { Comparison, Me, Profile, Radio, Series, SiteInfo, Target, ZoneInfo } from './types.ts';

function meOf(body: unknown): Me {
  if (!isMe(body)) throw bad('{role, zones, sites, ...}');
  return { role: body.role, name: body.name, zones: body.zones, sites: body.sites, health: body.health, audit: body.audit, admin: body.admin };
}

function zonesOf(body: unknown): ZoneInfo[] {
  if (!Array.isArray(body) || !body.every(isZoneInfo)) throw bad('a list of {id, name}');
  return body.map((z) => ({ id: z.id, name: z.name, site: typeof z.site === 'string' ? z.site : null }));
}

function sitesOf(body: unknown): SiteInfo[] {
  if (!Array.isArray(body) || !body.every(isSiteInfo)) throw bad('a list of {id, name, zones}');
  return body.map((s) => ({ id: s.id, name: s.name, zones: [...s.zones] }));
}

/** Who the caller is; with `token`, checks that token (without using it for anything else). */
export async function fetchMe(token: string | null = currentToken()): Promise<Me> {
  return meOf(await getJson('api/v1/me', token));
}

/** Who the caller is and the zones and sites it may read (empty lists where none), in one request. */
export interface MeAndLists {
  me: Me;
  zones: ZoneInfo[];
  sites: SiteInfo[];
}

export async function fetchMeAndLists(token: string | null = currentToken()): Promise<MeAndLists> {
  const body = await getJson('api/v1/me?include=zones,sites', token);
  const me = meOf(body);
  const included = isRecord(body) && isRecord(body.included) ? body.included : {};
  return { me, zones: zonesOf(included.zones), sites: sitesOf(included.sites) };
}

export async function fetchZones(): Promise<ZoneInfo[]> {
  return zonesOf(await getJson('api/v1/zones'));
}

export async function fetchSites(): Promise<SiteInfo[]> {
  return sitesOf(await getJson('api/v1/sites'));
}

export function targetPath(target: Target, what: string): string {
  return `api/v1/${target.kind}s/${encodeURIComponent(target.id)}/${what}`;
}

function seriesParams(query: SeriesQuery): URLSearchParams {
  return new URLSearchParams({ from: String(query.from), to: String(query.to), step: String(query.step), radio: query.radio });
}

export async function fetchSeries(target: Target, query: SeriesQuery): Promise<Series> {
  const body = await getJson(`${targetPath(target, 'series')}?${seriesParams(query)}`);
  if (!isSeriesResponse(body)) throw bad('{t[], devices[], suppressed[]}');
  return body;
}

/** A site's series and, asked along (`?include=zones`), the series of its zones the reader may read, by zone id. */
export async function fetchSiteWithZones(siteId: string, query: SeriesQuery): Promise<{ site: Series; zones: Map<string, Series> }> {
  const body: unknown = await getJson(`${targetPath({ kind: 'site', id: siteId }, 'series')}?${seriesParams(query)}&include=zones`);
  const listed = isRecord(body) ? body.zones : undefined;
  if (!isSeriesResponse(body) || !Array.isArray(listed)) throw bad('{t[], devices[], suppressed[], zones[]}');
  const zones = new Map<string, Series>();
  for (const z of listed as unknown[]) {
    if (!isRecord(z) || typeof z.id !== 'string' || !isSeriesResponse(z.series)) throw bad('zones[] of {id, series}');
    zones.set(z.id, z.series);
  }
  const { zones: _zones, ...site } = body as Series & { zones: unknown };
  return { site, zones };
}

/** `query.from..query.to` against the period before and the same period a week earlier. */
export async function fetchComparison(target: Target, query: SeriesQuery): Promise<Comparison> {
  const body = await getJson(`${targetPath(target, 'compare')}?${seriesParams(query)}`);
  if (!isComparison(body)) throw bad('a comparison {current, previous, lastWeek}');
  return body;
}

export async function fetchProfile(target: Target, query: { weeks: number; radio: Radio; tz: string }): Promise<Profile> {
  const params = new URLSearchParams({ weeks: String(query.weeks), radio: query.radio, tz: query.tz });
  const body = await getJson(`${targetPath(target, 'profile')}?${params}`);
  if (!isProfile(body)) throw bad('an hour-of-week profile of 168 hours');
  return body;
}

/** The CSV URL of a series: no token in it (the download sends the token as a header). */
export function csvUrl(target: Target, query: SeriesQuery): string {
  return `${targetPath(target, 'series.csv')}?${seriesParams(query)}`;
}

/** A file name safe to offer: only letters, digits, dot, dash and underscore. */
export function safeFileName(name: string, fallback: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._]+/, '').slice(0, 120);
  return cleaned === '' ? fallback : cleaned;
}

/** The file name in a Content-Disposition header (`filename="..."`), or null. */
export function fileNameOf(contentDisposition: string | null): string | null {
  const match = /filename="([^"]{1,200})"/i.exec(contentDisposition ?? '');
  return match ? match[1]! : null;
}

/**
 * Fetches a CSV file (with the token as a header, never in the link) and returns it with the name the server
 * gives it (`fallback` when it gives none), made safe to offer.
 */
export async function fetchCsvFile(path: string, fallback: string): Promise<{ blob: Blob; fileName: string }> {
  const token = currentToken();
  const res = await ensureOk(await request(path, 'text/csv', token), path, token);
  const blob = await res.blob();
  return { blob, fileName: safeFileName(fileNameOf(res.headers.get('content-disposition')) ?? fallback, 'passant.csv') };
}

/** Fetches a series as CSV and returns the file. */
export function fetchCsv(target: Target, query: SeriesQuery): Promise<{ blob: Blob; fileName: string }> {
  return fetchCsvFile(csvUrl(target, query), `passant-${target.kind}-${target.id}-${query.radio}-${query.from}-${query.to}-${query.step}.csv`);
}
