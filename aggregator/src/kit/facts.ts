/**
 * The facts the transparency kit and the audit state about a deployment, read from the aggregator's parsed
 * configuration only (never typed twice), so that the kit cannot disagree with what the aggregator does.
 */
import { DEFAULT_WINDOW_SECONDS } from '@passant/shared';
import { ROLES } from '../auth/token-store.ts';
import type { AggregatorConfig } from '../config.ts';
import { configReference } from '../config.ts';

export interface RetentionFact {
  /** Config key it comes from, or null for what no key changes. */
  key: string | null;
  /** What is kept. */
  what: { en: string; nl: string };
  /** Days, or null: kept until the deployment ends. */
  days: number | null;
  /** The config value as set (in the key's own unit), when a key sets it. */
  value?: number;
}

export interface SensorFact {
  id: string;
  zoneId: string | null;
  zoneName: string | null;
  lat: number | null;
  lon: number | null;
  location: string | null;
  area: string | null;
  activeUntil: string | null;
  /** Whether the zone is readable without a token. */
  publicZone: boolean;
}

export interface KitFacts {
  k: number;
  windowSeconds: number;
  settleSeconds: number;
  baseline: AggregatorConfig['baseline'];
  noise: { enabled: boolean; epsilon: number; devicesPerPerson: number };
  retention: RetentionFact[];
  publicZones: 'all' | 'none' | string[];
  publicSites: 'all' | 'none' | string[];
  privacyPagePublic: boolean;
  roles: readonly string[];
  zones: { id: string; name: string; sensors: string[]; public: boolean }[];
  sites: { id: string; name: string; zones: string[]; public: boolean }[];
  sensors: SensorFact[];
  transparency: AggregatorConfig['transparency'];
}

const scope = (s: 'all' | 'none' | string[]): 'all' | 'none' | string[] => (s === 'all' || s === 'none' ? s : [...s]);
const inScope = (s: 'all' | 'none' | string[], id: string) => s === 'all' || (Array.isArray(s) && s.includes(id));

const NL_RETENTION: Record<string, string> = {
  minuteDays: 'vrijgegeven zone-minuten (en wat er nog over is van tellingen per sensor)',
  sensorWindowHours: 'tellingen per sensor per minuut, nadat hun zone-minuten zijn vrijgegeven',
};

/** Every `retention.*Days` and `retention.*Hours` key of the config with its value, and what no key shortens. */
export function retentionFacts(config: AggregatorConfig): RetentionFact[] {
  const out: RetentionFact[] = [];
  const descriptions = new Map(configReference().map((r) => [r.key, r.description]));
  for (const [name, value] of Object.entries(config.retention as Record<string, unknown>)) {
    const unit = name.endsWith('Days') ? 1 : name.endsWith('Hours') ? 1 / 24 : null;
    if (unit === null || typeof value !== 'number') continue;
    const key = `retention.${name}`;
    const en = descriptions.get(key) ?? key;
    out.push({ key, what: { en, nl: NL_RETENTION[name] ?? `${key}: ${en}` }, days: value * unit, value });
  }
  out.push({
    key: null,
    what: {
      en: 'hour and day totals of released zone-minutes (sums of released cells only)',
      nl: 'uur- en dagtotalen van vrijgegeven zone-minuten (alleen sommen van vrijgegeven cellen)',
    },
    days: null,
  });
  out.push({
    key: null,
    what: {
      en: 'on the sensor: the per-minute key and set of keyed hashes (replaced and cleared when the minute closes)',
      nl: 'op de sensor: de sleutel en de verzameling versleutelde adressen van één minuut (gewist zodra de minuut sluit)',
    },
    days: 0,
  });
  return out;
}

export function kitFacts(config: AggregatorConfig): KitFacts {
  const publicZones = scope(config.auth.public.zones);
  const publicSites = scope(config.auth.public.sites);
  const placements = new Map(config.transparency.sensors.map((s) => [s.id, s]));
  const sensors: SensorFact[] = [];
  const seen = new Set<string>();
  const sensorFact = (id: string, zone: AggregatorConfig['zones'][number] | null): SensorFact => {
    const p = placements.get(id);
    return {
      id,
      zoneId: zone?.id ?? null,
      zoneName: zone?.name ?? null,
      lat: p?.lat ?? null,
      lon: p?.lon ?? null,
      location: p?.location ?? null,
      area: p?.area ?? zone?.name ?? null,
      activeUntil: p?.activeUntil ?? null,
      publicZone: zone !== null && inScope(publicZones, zone.id),
    };
  };
  for (const zone of config.zones) {
    for (const id of zone.sensors) {
      seen.add(id);
      sensors.push(sensorFact(id, zone));
    }
  }
  // placed sensors that no zone names (yet): listed, counted nowhere
  for (const p of config.transparency.sensors) if (!seen.has(p.id)) sensors.push(sensorFact(p.id, null));
  return {
    k: config.k,
    windowSeconds: DEFAULT_WINDOW_SECONDS,
    settleSeconds: config.settleSeconds,
    baseline: config.baseline,
    noise: { enabled: config.noise.enabled, epsilon: config.noise.epsilon, devicesPerPerson: config.noise.devicesPerPerson },
    retention: retentionFacts(config),
    publicZones,
    publicSites,
    privacyPagePublic: config.auth.public.privacyPage,
    roles: ROLES,
    zones: config.zones.map((z) => ({ id: z.id, name: z.name, sensors: [...z.sensors], public: inScope(publicZones, z.id) })),
    sites: config.sites.map((s) => ({ id: s.id, name: s.name, zones: [...s.zones], public: inScope(publicSites, s.id) })),
    sensors,
    transparency: config.transparency,
  };
}
