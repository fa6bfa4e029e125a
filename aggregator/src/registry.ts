/**
 * The registry: which sensors count which zone, and which zones make a site, from the configuration.
 * Sensors in no zone are stored but never released (issue 4 lists them for an admin).
 */
import type { ZoneInfo } from '@passant/shared';
import type { SiteConfig, ZoneConfig } from './config.ts';

export class Registry {
  private readonly zones = new Map<string, ZoneConfig>();
  private readonly sites = new Map<string, SiteConfig>();
  private readonly zoneOfSensor = new Map<string, string>();

  constructor(zones: readonly ZoneConfig[], sites: readonly SiteConfig[] = []) {
    for (const zone of zones) {
      this.zones.set(zone.id, zone);
      for (const sensorId of zone.sensors) this.zoneOfSensor.set(sensorId, zone.id);
    }
    for (const site of sites) this.sites.set(site.id, site);
  }

  /** Zones in configuration order, as the API lists them. */
  listZones(): ZoneInfo[] {
    return [...this.zones.values()].map((z) => ({ id: z.id, name: z.name }));
  }

  zone(zoneId: string): ZoneConfig | undefined {
    return this.zones.get(zoneId);
  }

  /** The zone a sensor counts, or undefined for an unassigned sensor. */
  zoneOf(sensorId: string): string | undefined {
    return this.zoneOfSensor.get(sensorId);
  }

  listSites(): SiteConfig[] {
    return [...this.sites.values()];
  }

  site(siteId: string): SiteConfig | undefined {
    return this.sites.get(siteId);
  }
}
