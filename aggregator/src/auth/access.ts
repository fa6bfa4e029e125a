/**
 * Who may see what. A request is made by a principal: anonymous (no token) or a token with a role.
 *
 * - anonymous: the zones and sites that `auth.public` makes public, and the privacy page when
 *   `auth.public.privacyPage` is true.
 * - viewer: what the public sees, plus the zones and sites on the token (a shop owner: their zone), and the
 *   zones whose configured owners (zones[].owners) include an owner label on the token, as configured now. A viewer
 *   reads sites only when the site itself is on the token: a site's series is a sum over its zones, so owning
 *   one zone of a site does not grant the site.
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
}

export type Principal = { kind: 'anonymous' } | { kind: 'token'; token: TokenInfo };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

export function roleOf(principal: Principal): Role | null {
  return principal.kind === 'token' ? principal.token.role : null;
}

function inScope(scope: PublicScope, id: string): boolean {
  return scope === 'all' || (scope !== 'none' && scope.includes(id));
}

export class AccessPolicy {
  /** `ownersOf(zoneId)`: the zone's configured owner labels (empty for an unknown zone). */
  constructor(
    private readonly publicAccess: PublicAccess,
    private readonly ownersOf: (zoneId: string) => readonly string[] = () => [],
  ) {}

  get public(): PublicAccess {
    return this.publicAccess;
  }

  /** True when the principal may read the zone's released counts (the zone may still not exist). */
  canReadZone(principal: Principal, zoneId: string): boolean {
    if (inScope(this.publicAccess.zones, zoneId)) return true;
    if (principal.kind === 'anonymous') return false;
    const { token } = principal;
    if (token.role === 'admin') return true;
    if (token.role !== 'viewer') return false;
    if (token.zones.includes(zoneId)) return true;
    return token.owners.length > 0 && this.ownersOf(zoneId).some((owner) => token.owners.includes(owner));
  }

  canReadSite(principal: Principal, siteId: string): boolean {
    if (inScope(this.publicAccess.sites, siteId)) return true;
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
    if (token.zones.includes(target.id)) return true;
    return token.owners.length > 0 && this.ownersOf(target.id).some((owner) => token.owners.includes(owner));
  }

  /** True when the principal may read every zone, whatever zones exist now or later. */
  readsAllZones(principal: Principal): boolean {
    return this.publicAccess.zones === 'all' || roleOf(principal) === 'admin';
  }

  /** True when there may be some zone the principal can read (used to answer 401 rather than an empty list). */
  mayReadAnyZone(principal: Principal): boolean {
    if (principal.kind === 'token') return true;
    const scope = this.publicAccess.zones;
    return scope === 'all' || (scope !== 'none' && scope.length > 0);
  }

  mayReadAnySite(principal: Principal): boolean {
    if (principal.kind === 'token') return true;
    const scope = this.publicAccess.sites;
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
    return this.publicAccess.privacyPage || this.canSeeHealth(principal);
  }

  isAdmin(principal: Principal): boolean {
    return roleOf(principal) === 'admin';
  }
}
