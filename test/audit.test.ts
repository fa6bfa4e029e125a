/**
 * `passant-aggregator audit` against a live deployment: a real Mosquitto with the production ACL
 * (deploy/mosquitto/acl: the `privacy-officer` login reads everything, writes nothing; each sensor writes only its
 * own topics), a real aggregator on a SQLite file and real (simulated-source) sensors, each with its own login.
 * The officer has a privacy API token and trusts the build that this checkout's sensor reports (a reference
 * sensor run from the same source).
 * - Honest: every check passes and the dated reports (Markdown and HTML, Dutch and English) are written.
 * - Tampered, each on its own: a sensor that sends a counts message with an extra field, one with an address in
 *   `seq`, and one whose status reports a build nobody trusts. The audit fails and names the sensor and the reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { topics, type CountsMessage } from '@passant/shared';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit, type AuditResult } from '../aggregator/src/audit/audit.ts';
import { writeReports } from '../aggregator/src/audit/report.ts';
import { startMosquitto, type MosquittoBroker } from './helpers/mosquitto.ts';
import { startStack, type Stack } from './helpers/stack.ts';
import { requireTool } from './helpers/tools.ts';
import { waitFor } from './helpers/wait.ts';

const hasMosquitto = requireTool('mosquitto', 'mosquitto');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ACL = fs.readFileSync(path.join(ROOT, 'deploy/mosquitto/acl'), 'utf8');

const HONEST = ['s-001', 's-002', 's-003'];
const REFERENCE = 's-ref';
const TAMPERER = 's-009';
const PASSWORD = 'audit-test-password';
const BACKFILL_HOURS = 3;

describe.skipIf(!hasMosquitto)('passant audit against a live deployment (Debian package "mosquitto")', () => {
  let broker: MosquittoBroker;
  let stack: Stack;
  let token: string;
  let trusted: string[] = [];
  let period: { from: number; to: number };

  /** Centrum's sensors hear many devices (released at any hour), the market's one a few (suppressed): both kinds of cell. */
  const SCALES: Record<string, number> = { 's-001': 400, 's-002': 300, 's-003': 2, [REFERENCE]: 40 };
  const startSensor = (sensorId: string, seed: number) => stack.startSensor(sensorId, { scale: SCALES[sensorId]!, seed });

  /** The build hash a sensor's retained status reports, read with the officer's login. */
  async function reportedBuild(sensorId: string): Promise<string | null> {
    const client = await mqtt.connectAsync(broker.url, { username: 'privacy-officer', password: PASSWORD, reconnectPeriod: 0 });
    try {
      const status = new Promise<Record<string, unknown>>((resolve) =>
        client.on('message', (_topic, payload) => {
          const s = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
          if (s.state === 'online') resolve(s);
        }),
      );
      await client.subscribeAsync(topics.sensorStatus(sensorId), { qos: 1 });
      const s = await status;
      const sha = (s.build as { sha256?: unknown } | undefined)?.sha256;
      return typeof sha === 'string' ? sha : null;
    } finally {
      await client.endAsync(true);
    }
  }

  beforeAll(async () => {
    const logins = Object.fromEntries(['aggregator', 'privacy-officer', ...HONEST, REFERENCE, TAMPERER].map((u) => [u, PASSWORD]));
    broker = await startMosquitto({ passwords: logins, acl: ACL });
    // Every login of its own; the sensors start while the officer listens (in the first test), not with the stack.
    stack = await startStack({
      mqttUrl: broker.url,
      mqtt: { username: 'aggregator', password: PASSWORD },
      sensorMqtt: (sensorId) => ({ username: sensorId, password: PASSWORD }),
      simulatedSensors: false,
      backfillHours: BACKFILL_HOURS,
      k: 5,
      zones: [
        { id: 'centrum', name: 'Centrum', sensors: ['s-001', 's-002'] },
        { id: 'markt', name: 'Markt', sensors: ['s-003'] },
      ],
      sites: [{ id: 'binnenstad', name: 'Binnenstad', zones: ['centrum', 'markt'] }],
      overrides: {
        aggregator: { id: 'audit-test' },
        http: { rateLimitPerMinute: 0 },
        settleSeconds: 60,
        baseline: { enabled: false },
        auth: { public: { zones: 'all', sites: 'all' } },
        transparency: { controller: { name: 'Gemeente Voorbeeld', email: 'privacy@voorbeeld.example' } },
      },
    });
    token = stack.aggregator.tokens.create({ role: 'privacy', name: 'privacy officer' }).token;
    // The officer's trusted build: what a sensor run from this checkout reports.
    await startSensor(REFERENCE, 99);
    const build = await reportedBuild(REFERENCE);
    expect(build, 'a sensor reports the SHA-256 of its build in its status (build.sha256)').not.toBeNull();
    trusted = [build!];
    const hour = Math.floor(Date.now() / 1000 / 3600) * 3600;
    period = { from: hour - 2 * 3600, to: hour };
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await broker?.stop();
  });

  const audit = (onListening: () => Promise<void>, listenSeconds = 3): Promise<AuditResult> =>
    runAudit({
      mqttUrl: broker.url,
      mqttUsername: 'privacy-officer',
      mqttPassword: PASSWORD,
      apiUrl: stack.baseUrl,
      token,
      listenSeconds,
      ...period,
      trustedBuilds: trusted,
      config: stack.config,
      onListening,
    });

  const check = (r: AuditResult, id: string) => r.checks.find((c) => c.id === id)!;
  const failures = (r: AuditResult) => r.checks.flatMap((c) => c.findings.filter((f) => !f.ok).map((f) => `${c.id} ${f.subject}: ${f.en}`));

  it('passes on an honest deployment, with evidence for each check, and writes the dated reports', async () => {
    const result = await audit(async () => {
      // the sensors start (and backfill) while the officer listens
      const stored = () => stack.aggregator.metrics.ingestMessages.get({ result: 'stored', reason: 'none' });
      const expected = stored() + HONEST.length * BACKFILL_HOURS * 60;
      for (const [i, id] of HONEST.entries()) await startSensor(id, 1000 + i);
      await waitFor(() => stored() >= expected, 'the backfill stored', 60_000);
      await stack.aggregator.release.settle();
    });
    expect(failures(result)).toEqual([]);
    expect(result.pass).toBe(true);
    const wire = check(result, 'wire');
    expect(wire.findings.map((f) => f.subject)).toEqual(expect.arrayContaining(HONEST));
    expect(Number(wire.evidence.countsMessages)).toBeGreaterThanOrEqual(HONEST.length * BACKFILL_HOURS * 60);
    const code = check(result, 'code');
    expect(code.findings.filter((f) => HONEST.includes(f.subject)).every((f) => f.ok && f.en.includes(trusted[0]!))).toBe(true);
    const release = check(result, 'release');
    // the attack had material: released and suppressed cells, outputs at every step
    expect(Number(release.evidence.cells)).toBeGreaterThan(200);
    expect(Number(release.evidence.suppressedCells)).toBeGreaterThan(0);
    expect(Number(release.evidence.equations)).toBeGreaterThan(100);
    expect(release.evidence.recoveredCells).toBe(0);
    const settings = check(result, 'settings');
    expect(settings.findings.find((f) => f.subject === 'k')).toMatchObject({ ok: true, en: '5, as the kit states' });

    const files = writeReports(result, path.join(stack.dataDir, 'reports'));
    const stamp = result.startedAt.toISOString().slice(0, 10).replace(/-/g, '');
    expect(files.map((f) => path.basename(f)).sort()).toEqual(
      ['en.html', 'en.md', 'nl.html', 'nl.md'].map((s) => expect.stringMatching(new RegExp(`^passant-audit-${stamp}T\\d{6}Z\\.${s.replace('.', '\\.')}$`))),
    );
    const nl = fs.readFileSync(files.find((f) => f.endsWith('.nl.md'))!, 'utf8');
    expect(nl).toContain('GESLAAGD');
    expect(nl).toContain('## De vrijgavelaag: GESLAAGD');
    const en = fs.readFileSync(files.find((f) => f.endsWith('.en.html'))!, 'utf8');
    expect(en).toMatch(/<h2>The wire: <span class="pass">PASS<\/span><\/h2>/);
  }, 180_000);

  /** A modified sensor with its own login: publishes what a real sensor would, then `tamper`s one thing. */
  async function tamperedAudit(publish: (client: mqtt.MqttClient) => Promise<void>): Promise<AuditResult> {
    const client = await mqtt.connectAsync(broker.url, { username: TAMPERER, password: PASSWORD, reconnectPeriod: 0 });
    try {
      return await audit(async () => {
        await publish(client);
      });
    } finally {
      await client.endAsync(true);
    }
  }

  const honestStatus = (build: string) => ({
    v: 1,
    state: 'online',
    role: 'sensor',
    id: TAMPERER,
    version: '0.1.0',
    startedAt: Math.floor(Date.now() / 1000),
    windowSeconds: 60,
    radios: ['wifi', 'ble'],
    build: { version: '0.1.0', commit: null, sha256: build },
  });
  const counts = (seq: number, minutesAgo: number): CountsMessage => ({
    v: 1,
    sensorId: TAMPERER,
    windowStart: Math.floor(Date.now() / 60_000) * 60 - minutesAgo * 60,
    windowSeconds: 60,
    seq,
    wifi: { devices: 12, randomized: 8, frames: 50, rssiHistogram: [0, 10, 20, 10, 10, 0] },
    ble: { devices: 6, randomized: 6, frames: 30, rssiHistogram: [0, 5, 10, 10, 5, 0] },
    rssiFloor: null,
  });
  const send = (client: mqtt.MqttClient, payload: unknown, channel: 'counts' | 'status' = 'counts') =>
    client.publishAsync(channel === 'counts' ? topics.sensorCounts(TAMPERER) : topics.sensorStatus(TAMPERER), JSON.stringify(payload), { qos: 1 });

  it('fails on a sensor that sends an extra field, naming the sensor and the reason', async () => {
    const result = await tamperedAudit(async (client) => {
      await send(client, honestStatus(trusted[0]!), 'status');
      await send(client, counts(1, 3));
      await send(client, { ...counts(2, 2), note: 1 });
    });
    expect(result.pass).toBe(false);
    const wire = check(result, 'wire');
    expect(wire.pass).toBe(false);
    const finding = wire.findings.find((f) => f.subject === TAMPERER)!;
    expect(finding.ok).toBe(false);
    expect(finding.en).toContain('schema: unknown field in the message (1x)');
    expect(finding.en).not.toContain('note'); // the field's name is not repeated: it could be an address
    // the honest sensors still pass
    expect(wire.findings.filter((f) => HONEST.includes(f.subject)).every((f) => f.ok)).toBe(true);
  }, 120_000);

  it('fails on a sensor that puts an address in seq, naming the sensor and the reason', async () => {
    const result = await tamperedAudit(async (client) => {
      await send(client, honestStatus(trusted[0]!), 'status');
      await send(client, counts(0xa4c3f0123456, 1));
    });
    expect(result.pass).toBe(false);
    const finding = check(result, 'wire').findings.find((f) => f.subject === TAMPERER)!;
    expect(finding).toMatchObject({ ok: false });
    expect(finding.en).toContain('implausible: seq_implausible (1x)');
    expect(JSON.stringify(result)).not.toMatch(/a4c3f0123456|180591463240790|a4:c3/i);
  }, 120_000);

  it('fails on a sensor whose status reports a build nobody trusts, naming the sensor and the build', async () => {
    const wrong = 'ab'.repeat(32);
    const result = await tamperedAudit(async (client) => {
      await send(client, honestStatus(wrong), 'status');
      await send(client, counts(100, 1));
    });
    expect(result.pass).toBe(false);
    const code = check(result, 'code');
    expect(code.pass).toBe(false);
    expect(code.findings.find((f) => f.subject === TAMPERER)).toMatchObject({ ok: false, en: `reports build ${wrong}, which is not a trusted build` });
    expect(code.findings.filter((f) => HONEST.includes(f.subject)).every((f) => f.ok)).toBe(true);
    expect(check(result, 'wire').findings.find((f) => f.subject === TAMPERER)).toMatchObject({ ok: true });
  }, 120_000);
});
