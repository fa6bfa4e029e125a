/**
 * The audit's settings check: what the live aggregator says about itself (GET /api/v1/privacy and, for the
 * privacy role, /api/v1/privacy/audit) against what the transparency kit states for the configuration the
 * officer was given (the same facts, kit/facts.ts): k, window and settle time, retention of each kind of data,
 * public zones and sites, noise and epsilon, the counts schema; tokens by role are reported.
 */
import { countsMessageJsonSchema } from '@passant/shared';
import type { AggregatorConfig } from '../config.ts';
import { kitFacts } from '../kit/facts.ts';

export interface SettingFinding {
  setting: string;
  /** What the live deployment says (JSON). */
  live: string;
  /** What the configuration and kit state (JSON), or null when the configuration does not say. */
  stated: string | null;
  ok: boolean;
}

export interface SettingsCheckResult {
  findings: SettingFinding[];
  /** Valid tokens by role and revoked ones, from /api/v1/privacy/audit (null when the token may not read it). */
  tokens: Record<string, number> | null;
  /** Counts messages the aggregator refused since it started, by reason (only reasons with any). */
  rejected: Record<string, number> | null;
  /** The deployment's published counts JSON Schema. */
  countsSchema: Record<string, unknown> | null;
  errors: string[];
}

interface PrivacyBody {
  k: number;
  windowSeconds: number;
  settleSeconds: number;
  retention: Record<string, number | null>;
  noise: { epsilon: number } | null;
  publicAccess: { zones: 'all' | 'none' | string[]; sites: 'all' | 'none' | string[] };
  countsSchema: Record<string, unknown>;
}

/** What the kit states for a kind of the privacy page's retention (days; null: kept), or undefined when it does not say. */
function statedRetention(retention: ReturnType<typeof kitFacts>['retention'], kind: string): number | null | undefined {
  if (kind.endsWith('RollupDays')) return retention.some((r) => r.key === null && r.days === null) ? null : undefined;
  const exact = retention.find((r) => r.key === `retention.${kind}`);
  if (exact) return exact.days;
  return retention.find((r) => r.key === `retention.${kind.replace(/Days$/, 'Hours')}`)?.days;
}

const norm = (s: 'all' | 'none' | string[]) => (Array.isArray(s) ? [...s].sort() : s);

export async function settingsCheck(apiUrl: string, token: string, config: AggregatorConfig | null, doFetch: typeof fetch = fetch): Promise<SettingsCheckResult> {
  const headers = { authorization: `Bearer ${token}` };
  const errors: string[] = [];
  const read = async <T>(p: string): Promise<T | null> => {
    const res = await doFetch(`${apiUrl}${p}`, { headers });
    if (res.status !== 200) {
      errors.push(`${p}: HTTP ${res.status}`);
      await res.arrayBuffer();
      return null;
    }
    return (await res.json()) as T;
  };
  const privacy = await read<PrivacyBody>('/api/v1/privacy');
  const audit = await read<{ tokens: Record<string, number>; ingest: { rejected: Record<string, number> } }>('/api/v1/privacy/audit');
  const findings: SettingFinding[] = [];
  if (privacy !== null) {
    const facts = config ? kitFacts(config) : null;
    const add = (setting: string, live: unknown, stated: unknown) => {
      const l = JSON.stringify(live);
      const s = stated === undefined ? null : JSON.stringify(stated);
      findings.push({ setting, live: l, stated: s, ok: s !== null && l === s });
    };
    add('k', privacy.k, facts?.k);
    add('windowSeconds', privacy.windowSeconds, facts?.windowSeconds);
    add('settleSeconds', privacy.settleSeconds, facts?.settleSeconds);
    for (const [kind, days] of Object.entries(privacy.retention)) {
      // the privacy page states retention in days by kind; the kit from the retention.* keys (null: kept)
      const stated = facts ? statedRetention(facts.retention, kind) : undefined;
      add(`retention.${kind}`, days, stated);
    }
    add('noise', privacy.noise === null ? 'off' : { epsilon: privacy.noise.epsilon }, facts ? (facts.noise.enabled ? { epsilon: facts.noise.epsilon } : 'off') : undefined);
    add('public zones', norm(privacy.publicAccess.zones), facts ? norm(facts.publicZones) : undefined);
    add('public sites', norm(privacy.publicAccess.sites), facts ? norm(facts.publicSites) : undefined);
    // the schema the deployment publishes against the one this audit judges messages by
    const same = JSON.stringify(privacy.countsSchema) === JSON.stringify(countsMessageJsonSchema());
    findings.push({ setting: 'counts schema', live: same ? 'as this audit tool' : 'differs from this audit tool', stated: 'as this audit tool', ok: same });
  }
  const rejected = audit ? Object.fromEntries(Object.entries(audit.ingest.rejected).filter(([, n]) => n > 0)) : null;
  return { findings, tokens: audit?.tokens ?? null, rejected, countsSchema: privacy?.countsSchema ?? null, errors };
}
