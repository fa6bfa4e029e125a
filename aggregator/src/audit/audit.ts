/**
 * `passant-aggregator audit`: a privacy officer's check of a live deployment, with the read-only MQTT login
 * (`privacy-officer` in deploy/mosquitto/acl) and a privacy API token. Four checks, each passed or failed with
 * its evidence:
 * - wire: every counts and status message for a while, against the schema and the plausibility rules (wire.ts);
 * - code: each sensor's reported build hash against the builds the officer trusts;
 * - release: the differencing attack over every series route the token can read (release-check.ts);
 * - settings: what the aggregator says about itself against what the kit states for the configuration.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { topics } from '@passant/shared';
import mqtt from 'mqtt';
import type { AggregatorConfig } from '../config.ts';
import { releaseCheck, type ReleaseCheckResult } from './release-check.ts';
import { settingsCheck, type SettingsCheckResult } from './settings-check.ts';
import { WireLedger, type SensorWire } from './wire.ts';

export interface AuditOptions {
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  /** PEM CA for mqtts://. */
  caFile?: string;
  apiUrl: string;
  token: string;
  /** How long to listen to the wire, in seconds. */
  listenSeconds: number;
  /** Period of the release check [from, to), Unix seconds. */
  from: number;
  to: number;
  /** SHA-256 hashes of the sensor builds the officer trusts (lower-case hex). */
  trustedBuilds: string[];
  /** The configuration the kit was made from (the settings check compares against it); null: not given. */
  config: AggregatorConfig | null;
  now?: () => Date;
  /** Called once the wire subscription is granted (tests publish from here). */
  onListening?: () => void | Promise<void>;
}

export type CheckId = 'wire' | 'code' | 'release' | 'settings';

/** One subject (a sensor, a setting, a cell) of a check that passed or failed, with why. */
export interface Finding {
  subject: string;
  ok: boolean;
  /** Why, in each language. */
  en: string;
  nl: string;
}

export interface CheckResult {
  id: CheckId;
  pass: boolean;
  /** Evidence lines (language-neutral: numbers and names). */
  evidence: Record<string, string | number>;
  findings: Finding[];
}

export interface AuditResult {
  startedAt: Date;
  finishedAt: Date;
  apiUrl: string;
  mqttUrl: string;
  period: { from: number; to: number };
  listenSeconds: number;
  checks: CheckResult[];
  pass: boolean;
}

/**
 * SHA-256 (hex) of a sensor build folder made here from the source (`npm ci && npm run build`, sensor-agent/dist):
 * every `.mjs` file below it, in the byte order of their paths relative to the folder, concatenated. The same
 * definition as the sensor's own (sensor-agent/src/build-info.ts), which the tests hold to.
 */
export function buildDirSha256(dir: string): string {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.mjs')) files.push(path.relative(dir, p).split(path.sep).join('/'));
    }
  };
  walk(dir);
  if (files.length === 0) throw new Error(`${dir} holds no .mjs file: not a sensor build (npm run build makes sensor-agent/dist)`);
  files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const h = crypto.createHash('sha256');
  for (const f of files) h.update(fs.readFileSync(path.join(dir, f)));
  return h.digest('hex');
}

/** Subscribes with the officer's login and judges every sensor message for `seconds`. */
export async function listenToWire(options: AuditOptions, ledger: WireLedger): Promise<void> {
  const client = await mqtt.connectAsync(options.mqttUrl, {
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...(options.mqttUsername ? { username: options.mqttUsername } : {}),
    ...(options.mqttPassword ? { password: options.mqttPassword } : {}),
    ...(options.caFile ? { ca: fs.readFileSync(options.caFile) } : {}),
  });
  try {
    client.on('message', (topic, payload) => ledger.receive(topic, payload));
    const granted = await client.subscribeAsync([topics.allSensorCounts(), topics.allSensorStatus()], { qos: 1 });
    const refused = granted.filter((g) => g.qos > 2);
    if (refused.length > 0) throw new Error(`the broker refused the subscription to ${refused.map((g) => g.topic).join(', ')}`);
    const until = Date.now() + options.listenSeconds * 1000;
    await options.onListening?.();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now())));
  } finally {
    await client.endAsync(true);
  }
}

export function wireCheck(ledger: WireLedger, listenSeconds: number): CheckResult {
  const sensors = [...ledger.sensors.values()].sort((a, b) => a.sensorId.localeCompare(b.sensorId));
  const findings: Finding[] = sensors.map((s: SensorWire) => {
    const violations = [...s.violations.entries()].map(([reason, n]) => `${reason} (${n}x)`);
    const seen = `versions ${[...s.versions].join(', ') || '-'}, builds ${[...s.builds].join(', ') || '-'}`;
    const heard = `${s.counts} counts, ${s.status} status; ${seen}`;
    return violations.length === 0
      ? { subject: s.sensorId, ok: true, en: `${heard}; no violation`, nl: `${s.counts} tellingen, ${s.status} status; ${seen.replace('versions', 'versies')}; geen overtreding` }
      : {
          subject: s.sensorId,
          ok: false,
          en: `${heard}; violations: ${violations.join('; ')}`,
          nl: `${s.counts} tellingen, ${s.status} status; overtredingen: ${violations.join('; ')}`,
        };
  });
  const counts = sensors.reduce((n, s) => n + s.counts, 0);
  if (counts === 0) {
    findings.push({
      subject: '(wire)',
      ok: false,
      en: `no counts message in ${listenSeconds} s: nothing to judge (listen longer, or check the login)`,
      nl: `geen telbericht in ${listenSeconds} s: niets te beoordelen (luister langer of controleer de login)`,
    });
  }
  return {
    id: 'wire',
    pass: findings.every((f) => f.ok),
    evidence: {
      listenSeconds,
      sensors: sensors.length,
      countsMessages: counts,
      statusMessages: sensors.reduce((n, s) => n + s.status, 0),
      violations: sensors.reduce((n, s) => n + [...s.violations.values()].reduce((a, b) => a + b, 0), 0),
      otherTopics: ledger.otherTopics,
    },
    findings,
  };
}

export function codeCheck(ledger: WireLedger, trusted: string[]): CheckResult {
  const trust = new Set(trusted.map((h) => h.toLowerCase()));
  const findings: Finding[] = [];
  if (trust.size === 0) {
    findings.push({
      subject: '(builds)',
      ok: false,
      en: 'no trusted build given (--build-hash, --builds-file or --build-dir): no sensor code can be verified',
      nl: 'geen vertrouwde build opgegeven (--build-hash, --builds-file of --build-dir): geen sensorcode te controleren',
    });
  }
  for (const s of [...ledger.sensors.values()].sort((a, b) => a.sensorId.localeCompare(b.sensorId))) {
    const builds = [...s.builds];
    const unknown = builds.filter((b) => !trust.has(b));
    if (builds.length === 0) {
      findings.push({
        subject: s.sensorId,
        ok: false,
        en: s.status === 0 ? 'no status message seen: its build is unknown' : 'its status reports no build hash: its code cannot be verified',
        nl: s.status === 0 ? 'geen statusbericht gezien: de build is onbekend' : 'de status meldt geen build-hash: de code is niet te controleren',
      });
    } else if (unknown.length > 0) {
      findings.push({
        subject: s.sensorId,
        ok: false,
        en: `reports build ${unknown.join(', ')}, which is not a trusted build`,
        nl: `meldt build ${unknown.join(', ')}, die geen vertrouwde build is`,
      });
    } else {
      findings.push({ subject: s.sensorId, ok: true, en: `build ${builds.join(', ')} is trusted`, nl: `build ${builds.join(', ')} is vertrouwd` });
    }
  }
  return {
    id: 'code',
    pass: findings.length > 0 && findings.every((f) => f.ok),
    evidence: { trustedBuilds: [...trust].join(', ') || '-', sensors: ledger.sensors.size },
    findings,
  };
}

function releaseResult(r: ReleaseCheckResult, period: { from: number; to: number }): CheckResult {
  const iso = (t: number) => new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const findings: Finding[] = r.recovered.map((c) => ({
    subject: `${c.zone} ${iso(c.t)} ${c.radio}`,
    ok: false,
    en: `a suppressed cell is determined by the outputs (${c.how})`,
    nl: `een onderdrukte cel volgt uit de uitvoer (${c.how})`,
  }));
  for (const e of r.errors) {
    // refused to this token: not readable, which is no failure; any other error is
    const refused = / HTTP (401|403|404)$/.test(e);
    findings.push({
      subject: e.split(':')[0]!,
      ok: refused,
      en: refused ? `not readable with this token (${e})` : `could not be read (${e}): not attacked`,
      nl: refused ? `niet leesbaar met dit token (${e})` : `niet te lezen (${e}): niet aangevallen`,
    });
  }
  if (r.cells === 0) {
    findings.push({
      subject: '(period)',
      ok: false,
      en: 'no cell in the period is readable with this token: nothing was attacked',
      nl: 'geen cel in de periode is leesbaar met dit token: er is niets aangevallen',
    });
  }
  return {
    id: 'release',
    pass: findings.every((f) => f.ok),
    evidence: {
      period: `${iso(period.from)} – ${iso(period.to)} UTC`,
      zones: r.zones.join(', ') || '-',
      sites: r.sites.join(', ') || '-',
      hiddenZones: r.hiddenZones.join(', ') || '-',
      routes: r.routes.length,
      requests: r.requests,
      cells: r.cells,
      suppressedCells: r.suppressedCells,
      equations: r.equations,
      recoveredCells: r.recovered.length,
    },
    findings,
  };
}

function settingsResult(s: SettingsCheckResult, hasConfig: boolean): CheckResult {
  const findings: Finding[] = s.findings.map((f) => ({
    subject: f.setting,
    ok: f.ok,
    en: f.ok ? `${f.live}, as the kit states` : f.stated === null ? `${f.live}; the configuration does not state it` : `${f.live}, but the kit states ${f.stated}`,
    nl: f.ok ? `${f.live}, zoals de kit zegt` : f.stated === null ? `${f.live}; de configuratie noemt het niet` : `${f.live}, maar de kit zegt ${f.stated}`,
  }));
  for (const e of s.errors) findings.push({ subject: e.split(':')[0]!, ok: false, en: `could not be read (${e})`, nl: `niet te lezen (${e})` });
  if (!hasConfig) findings.push({ subject: '(config)', ok: false, en: 'no configuration given (--config): nothing to compare with', nl: 'geen configuratie opgegeven (--config): niets om mee te vergelijken' });
  return {
    id: 'settings',
    pass: findings.length > 0 && findings.every((f) => f.ok),
    evidence: {
      tokens: s.tokens ? Object.entries(s.tokens).map(([k, v]) => `${k} ${v}`).join(', ') : '-',
      rejectedSinceStart: s.rejected ? Object.entries(s.rejected).map(([k, v]) => `${k} ${v}`).join(', ') || '0' : '-',
    },
    findings,
  };
}

export async function runAudit(options: AuditOptions): Promise<AuditResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const settings = await settingsCheck(options.apiUrl, options.token, options.config);
  const ledger = new WireLedger(settings.countsSchema, options.config?.transparency.sensors ?? []);
  await listenToWire(options, ledger);
  const release = await releaseCheck({ apiUrl: options.apiUrl, token: options.token, from: options.from, to: options.to });
  const checks = [
    wireCheck(ledger, options.listenSeconds),
    codeCheck(ledger, options.trustedBuilds),
    releaseResult(release, { from: options.from, to: options.to }),
    settingsResult(settings, options.config !== null),
  ];
  return {
    startedAt,
    finishedAt: now(),
    apiUrl: options.apiUrl,
    mqttUrl: options.mqttUrl.replace(/\/\/[^@/]*@/, '//'),
    period: { from: options.from, to: options.to },
    listenSeconds: options.listenSeconds,
    checks,
    pass: checks.every((c) => c.pass),
  };
}
