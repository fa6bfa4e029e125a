/**
 * The registry: which sensors count which zone, and which zones make a site, from the configuration. It can be
 * replaced while the aggregator runs (registry-watcher.ts reloads the config file); listeners of `onChange`
 * hear what changed. Sensors in no zone are stored but never released; `unassignedSensors()` lists them for an
 * admin (activity only, never counts).
 */
import type { ZoneInfo } from '@passant/shared';
import type { PublicAccess } from './auth/access.ts';
import type { SiteConfig, ZoneConfig } from './config.ts';
import type { SensorStats } from './store/types.ts';

/** A zone as given to the registry: owners and sensors may be left out (none). */
export type ZoneInput = Omit<ZoneConfig, 'owners' | 'sensors'> & { owners?: string[]; sensors?: string[] };
/** A site as given to the registry: zones may be left out (none). */
export type SiteInput = Omit<SiteConfig, 'zones'> & { zones?: string[] };

/** A sensor that sent counts but is in no zone: its data are stored apart and released nowhere. */
export interface UnassignedSensor {
  sensorId: string;
  /** Unix seconds its latest window was received. */
  lastSeen: number;
  firstWindowStart: number;
  lastWindowStart: number;
  /** Windows stored from it. */
  messages: number;
}

/** What a registry update changed. */
export interface RegistryChange {
  /** Zones that are new or whose sensors changed. */
  zonesChanged: string[];
  zonesAdded: string[];
  zonesRemoved: string[];
  /** Sites that are new, removed, or whose zones changed. */
  sitesChanged: string[];
  /** Sensors that joined a zone (newly assigned, or moved), with the zone. */
  sensorsAssigned: { sensorId: string; zoneId: string }[];
  /** Sensors that left every zone. */
  sensorsUnassigned: string[];
  /** True when only names, coordinates, owners or public access changed. */
  metadataOnly: boolean;
  /** True when auth.public changed (a live reload). */
  publicAccessChanged: boolean;
}

export interface RegistryOptions {
  /** Where sensor activity comes from (the store's tally), for unassignedSensors(). */
  sensorStats?: () => Promise<SensorStats[]>;
}

function normalizeZone(z: ZoneInput): ZoneConfig {
  const zone: ZoneConfig = { id: z.id, name: z.name, owners: [...(z.owners ?? [])], sensors: [...(z.sensors ?? [])] };
  if (z.coordinates !== undefined) zone.coordinates = { lat: z.coordinates.lat, lon: z.coordinates.lon };
  return zone;
}

function normalizeSite(s: SiteInput): SiteConfig {
  const site: SiteConfig = { id: s.id, name: s.name, zones: [...(s.zones ?? [])] };
  if (s.coordinates !== undefined) site.coordinates = { lat: s.coordinates.lat, lon: s.coordinates.lon };
  return site;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

export class Registry {
  private zones = new Map<string, ZoneConfig>();
  private sites = new Map<string, SiteConfig>();
  private zoneOfSensor = new Map<string, string>();
  private siteOfZone = new Map<string, string>();
  private readonly listeners = new Set<(change: RegistryChange) => void>();
  private readonly sensorStats: (() => Promise<SensorStats[]>) | undefined;
  private publicScope: PublicAccess | undefined;
  /** Incremented by every update that changed something. */
  version = 0;

  constructor(zones: readonly ZoneInput[], sites: readonly SiteInput[] = [], options: RegistryOptions = {}) {
    this.sensorStats = options.sensorStats;
    this.load(zones, sites);
  }

  private load(zones: readonly ZoneInput[], sites: readonly SiteInput[]): void {
    this.zones = new Map();
    this.sites = new Map();
    this.zoneOfSensor = new Map();
    this.siteOfZone = new Map();
    for (const input of zones) {
      const zone = normalizeZone(input);
      this.zones.set(zone.id, zone);
      for (const sensorId of zone.sensors) this.zoneOfSensor.set(sensorId, zone.id);
    }
    for (const input of sites) {
      const site = normalizeSite(input);
      this.sites.set(site.id, site);
      for (const zoneId of site.zones) this.siteOfZone.set(zoneId, site.id);
    }
  }

  /**
   * Replaces zones and sites (already validated: the config schema's checks). Returns what changed, or null when
   * nothing did; listeners are called with the change after the registry holds the new state.
   */
  update(zones: readonly ZoneInput[], sites: readonly SiteInput[] = [], publicAccess?: PublicAccess): RegistryChange | null {
    const before = { zones: this.zones, sites: this.sites, zoneOfSensor: this.zoneOfSensor };
    this.load(zones, sites);
    let publicAccessChanged = false;
    if (publicAccess !== undefined) {
      publicAccessChanged = this.publicScope !== undefined && JSON.stringify(this.publicScope) !== JSON.stringify(publicAccess);
      this.publicScope = structuredClone(publicAccess);
    }
    const ids = (m: Map<string, unknown>) => new Set(m.keys());
    const zonesAdded = [...ids(this.zones)].filter((id) => !before.zones.has(id));
    const zonesRemoved = [...ids(before.zones)].filter((id) => !this.zones.has(id));
    const zonesChanged = [...this.zones.values()]
      .filter((z) => {
        const old = before.zones.get(z.id);
        return old === undefined || !sameList(old.sensors, z.sensors);
      })
      .map((z) => z.id);
    const siteIds = new Set([...before.sites.keys(), ...this.sites.keys()]);
    const sitesChanged = [...siteIds].filter((id) => {
      const a = before.sites.get(id);
      const b = this.sites.get(id);
      return a === undefined || b === undefined || !sameList(a.zones, b.zones);
    });
    const sensorsAssigned: RegistryChange['sensorsAssigned'] = [];
    for (const [sensorId, zoneId] of this.zoneOfSensor) {
      if (before.zoneOfSensor.get(sensorId) !== zoneId) sensorsAssigned.push({ sensorId, zoneId });
    }
    const sensorsUnassigned = [...before.zoneOfSensor.keys()].filter((s) => !this.zoneOfSensor.has(s));
    const structural = zonesAdded.length + zonesRemoved.length + zonesChanged.length + sitesChanged.length > 0;
    const metadata =
      [...this.zones.values()].some((z) => JSON.stringify(z) !== JSON.stringify(before.zones.get(z.id) ?? z)) ||
      [...this.sites.values()].some((s) => JSON.stringify(s) !== JSON.stringify(before.sites.get(s.id) ?? s)) ||
      [...this.zones.keys()].join('\n') !== [...before.zones.keys()].join('\n') ||
      [...this.sites.keys()].join('\n') !== [...before.sites.keys()].join('\n');
    if (!structural && !metadata && !publicAccessChanged) return null;
    this.version++;
    const change: RegistryChange = {
      zonesChanged,
      zonesAdded,
      zonesRemoved,
      sitesChanged,
      sensorsAssigned,
      sensorsUnassigned,
      metadataOnly: !structural,
      publicAccessChanged,
    };
    for (const listener of this.listeners) listener(change);
    return change;
  }

  /**
   * auth.public as the last config reload gave it, or undefined before the first reload (then the configuration
   * the aggregator started with applies).
   */
  get publicAccess(): PublicAccess | undefined {
    return this.publicScope;
  }

  /** Sets auth.public without telling listeners (the configuration at start). */
  setPublicAccess(publicAccess: PublicAccess): void {
    this.publicScope = structuredClone(publicAccess);
  }

  /** Calls `listener` after every update that changed something. Returns the function that removes it. */
  onChange(listener: (change: RegistryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Zones in configuration order, as the API lists them (id and name). */
  listZones(): ZoneInfo[] {
    return [...this.zones.values()].map((z) => ({ id: z.id, name: z.name }));
  }

  /** Every zone with all its settings, in configuration order. */
  allZones(): ZoneConfig[] {
    return [...this.zones.values()];
  }

  zone(zoneId: string): ZoneConfig | undefined {
    return this.zones.get(zoneId);
  }

  /** The zone a sensor counts, or undefined for an unassigned sensor. */
  zoneOf(sensorId: string): string | undefined {
    return this.zoneOfSensor.get(sensorId);
  }

  /** The site a zone belongs to, or undefined. */
  siteOf(zoneId: string): string | undefined {
    return this.siteOfZone.get(zoneId);
  }

  listSites(): SiteConfig[] {
    return [...this.sites.values()];
  }

  site(siteId: string): SiteConfig | undefined {
    return this.sites.get(siteId);
  }

  /** Zones whose owners include `owner` (exact match of the free-text label). */
  zonesOwnedBy(owner: string): ZoneConfig[] {
    return [...this.zones.values()].filter((z) => z.owners.includes(owner));
  }

  /** zone id -> its sensor ids, sorted: what the release layer settles with. */
  sensorMap(): Record<string, string[]> {
    return Object.fromEntries([...this.zones.values()].map((z) => [z.id, [...z.sensors].sort()]));
  }

  /**
   * Sensors that sent counts but are in no zone, with when they were last seen and how many windows they sent
   * (no counts). Empty when the registry was made without a sensorStats source.
   */
  async unassignedSensors(): Promise<UnassignedSensor[]> {
    if (this.sensorStats === undefined) return [];
    return (await this.sensorStats())
      .filter((s) => !this.zoneOfSensor.has(s.sensorId))
      .map((s) => ({
        sensorId: s.sensorId,
        lastSeen: s.lastReceivedAt,
        firstWindowStart: s.firstWindowStart,
        lastWindowStart: s.lastWindowStart,
        messages: s.messages,
      }));
  }
}
