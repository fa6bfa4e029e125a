/**
 * Who may see what. A request is made by a principal: anonymous (no token) or a token with a role.
 *
 * - anonymous: the zones and sites that `auth.public` makes public, and the privacy page when
 *   `auth.public.privacyPage` is true.
 * - viewer: what the public sees, plus the zones and sites on the token (a shop owner: their zone), and the
 *   zones whose configured owners (zones[].owners) include an owner label on the token, as configured now. A viewer
 *   reads sites only when the site itself is on the token (or public): owning one zone of a site does not grant
 *   the site. A site on the token grants the site's zones too (as configured now), see below.
 *
 * Access composes: rights are rights to zones, and everything computed over zones (a site's series, the privacy
 * page's suppressed share, live updates) is computed over the zones the caller may read, never over the others.
 * A site's series for a caller is the sum of those of its zones the caller may read: otherwise a public site
 * minus its public zone would be its private zone, exactly. This is why a site on a viewer token grants its
 * zones: a site total over zones the holder could not read one by one would give them away by difference as soon
 * as the holder may read the other zones of the site in some other way (public, owner label), so the site total
 * was never a narrower right than its zones. A public site is public only through its public zones: its series,
 * for the public, sums only those (the others are left out, not refused; a public site with no public zone is
 * listed with no zones and an empty series).
 * - privacy (privacy officer): what the public sees, plus sensor health, audit data and the privacy page;
 *   never more counts than the public.
 * - admin: everything, including unassigned sensors.
 *
 * Denials do not reveal what exists: a token without access to a zone gets the same 404 as for a zone that
 * does not exist; an anonymous request for a zone that is not public gets 401 whether it exists or not.
 */
import type { Role, TokenInfo } from './token-store.ts';

/** 'none', 'all', or a list of ids. */
export type PublicScope = 'none' | 'all' | readonly string[];

export interface PublicAccess {
  zones: PublicScope;
  sites: PublicScope;
  privacyPage: boolean;
  /** Anyone may read GET /metrics (default false: admin and privacy tokens only). */
  metrics?: boolean;
}

export type Principal = { kind: 'anonymous' } | { kind: 'token'; token: TokenInfo };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

export function roleOf(principal: Principal): Role | null {
  return principal.kind === 'token' ? principal.token.role : null;
}

function inScope(scope: PublicScope, id: string): boolean {
  return scope === 'all' || (scope !== 'none' && scope.includes(id));
}

/** What the policy reads from the configuration as it is now (it can be reloaded while the aggregator runs). */
export interface AccessLookups {
  /** The zone's configured owner labels (empty for an unknown zone). */
  ownersOf?: (zoneId: string) => readonly string[];
  /** The site's zones (empty for an unknown site). */
  zonesOfSite?: (siteId: string) => readonly string[];
}

export class AccessPolicy {
  private readonly publicOf: () => PublicAccess;
  private readonly ownersOf: (zoneId: string) => readonly string[];
  private readonly zonesOfSite: (siteId: string) => readonly string[];

  /** `publicAccess`: auth.public, or a function giving it as configured now (a live reload may change it). */
  constructor(publicAccess: PublicAccess | (() => PublicAccess), lookups: AccessLookups = {}) {
    this.publicOf = typeof publicAccess === 'function' ? publicAccess : () => publicAccess;
    this.ownersOf = lookups.ownersOf ?? (() => []);
    this.zonesOfSite = lookups.zonesOfSite ?? (() => []);
  }

  get public(): PublicAccess {
    return this.publicOf();
  }

  /** True for a viewer token that names the zone, one of its owner labels, or a site the zone is in. */
  private grantedZone(token: TokenInfo, zoneId: string): boolean {
    if (token.zones.includes(zoneId)) return true;
    if (token.owners.length > 0 && this.ownersOf(zoneId).some((owner) => token.owners.includes(owner))) return true;
    return token.sites.some((siteId) => this.zonesOfSite(siteId).includes(zoneId));
  }

  /** True when the principal may read the zone's released counts (the zone may still not exist). */
  canReadZone(principal: Principal, zoneId: string): boolean {
    if (inScope(this.public.zones, zoneId)) return true;
    if (principal.kind === 'anonymous') return false;
    const { token } = principal;
    if (token.role === 'admin') return true;
    if (token.role !== 'viewer') return false;
    return this.grantedZone(token, zoneId);
  }

  /** The zones of a site the principal may read, in site order: what a site's values are computed over. */
  readableZonesOf(principal: Principal, zoneIds: readonly string[]): string[] {
    return zoneIds.filter((zoneId) => this.canReadZone(principal, zoneId));
  }

  canReadSite(principal: Principal, siteId: string): boolean {
    if (inScope(this.public.sites, siteId)) return true;
    if (principal.kind === 'anonymous') return false;
    const { token } = principal;
    return token.role === 'admin' || (token.role === 'viewer' && token.sites.includes(siteId));
  }

  /**
   * True when the principal gets exact released values (no open-data noise) for a zone or site: an admin, or a
   * viewer whose token names it (zones also by owner label). Whatever is readable only because it is public is
   * read as the public reads it; otherwise a viewer could take a public site's exact sum apart by zones.
   */
  grantsExact(principal: Principal, target: { kind: 'zone' | 'site'; id: string }): boolean {
    if (principal.kind === 'anonymous') return false;
    const { token } = principal;
    if (token.role === 'admin') return true;
    if (token.role !== 'viewer') return false;
    if (target.kind === 'site') return token.sites.includes(target.id);
    return this.grantedZone(token, target.id);
  }

  /** True when the principal may read every zone, whatever zones exist now or later. */
  readsAllZones(principal: Principal): boolean {
    return this.public.zones === 'all' || roleOf(principal) === 'admin';
  }

  /** True when there may be some zone the principal can read (used to answer 401 rather than an empty list). */
  mayReadAnyZone(principal: Principal): boolean {
    if (principal.kind === 'token') return true;
    const scope = this.public.zones;
    return scope === 'all' || (scope !== 'none' && scope.length > 0);
  }

  mayReadAnySite(principal: Principal): boolean {
    if (principal.kind === 'token') return true;
    const scope = this.public.sites;
    return scope === 'all' || (scope !== 'none' && scope.length > 0);
  }

  /** Sensor health: admin and privacy officer. */
  canSeeHealth(principal: Principal): boolean {
    const role = roleOf(principal);
    return role === 'admin' || role === 'privacy';
  }

  /** Audit data (ingest rejections by reason): admin and privacy officer. */
  canSeeAudit(principal: Principal): boolean {
    return this.canSeeHealth(principal);
  }

  /** The privacy page: everyone when auth.public.privacyPage is true, else admin and privacy officer. */
  canSeePrivacyPage(principal: Principal): boolean {
    return this.public.privacyPage || this.canSeeHealth(principal);
  }

  /** GET /metrics: admin and privacy officer, or anyone when auth.public.metrics is true. */
  canReadMetrics(principal: Principal): boolean {
    return this.public.metrics === true || this.canSeeHealth(principal);
  }

  isAdmin(principal: Principal): boolean {
    return roleOf(principal) === 'admin';
  }
}
