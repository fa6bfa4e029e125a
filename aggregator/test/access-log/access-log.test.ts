/** The access log on a real SQLite file, and its middleware in a real express server. */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessLog, targetOf } from '../../src/access-log/access-log.ts';
import { makeDataDir, removeDir } from '../helpers/aggregator.ts';

let dir: string;
let now: number;
beforeEach(() => {
  dir = makeDataDir();
  now = 1_700_000_000;
});
afterEach(() => removeDir(dir));

const entry = (at: number, tokenId: string, p = '/api/v1/zones/front/series') => ({
  at,
  tokenId,
  role: 'viewer',
  method: 'GET',
  path: p,
  targetKind: 'zone' as const,
  targetId: 'front',
  from: 1,
  to: 2,
  status: 200,
});

describe('access log', () => {
  it('names the zone or site a path reads', () => {
    expect(targetOf('/api/v1/zones/front/series')).toEqual({ kind: 'zone', id: 'front' });
    expect(targetOf('/api/v1/sites/centrum/series.csv')).toEqual({ kind: 'site', id: 'centrum' });
    expect(targetOf('/api/v1/zones')).toBeNull();
    expect(targetOf('/api/v1/privacy')).toBeNull();
  });

  it('records, answers newest first with filters, tells each token its last use, and prunes by age', () => {
    const file = path.join(dir, 'access-log.db');
    const log = AccessLog.open(file, { retentionDays: 30, now: () => now });
    log.record(entry(now - 40 * 86_400, 't-old'));
    log.record(entry(now - 100, 't1'));
    log.record(entry(now - 50, 't2'));
    log.record(entry(now - 10, 't1', '/api/v1/sites/centrum/series'));
    expect(log.query().map((r) => r.at)).toEqual([now - 10, now - 50, now - 100, now - 40 * 86_400]);
    expect(log.query({ tokenId: 't1' }).map((r) => r.path)).toEqual(['/api/v1/sites/centrum/series', '/api/v1/zones/front/series']);
    expect(log.query({ from: now - 60 }).length).toBe(2);
    expect(log.lastUse().get('t1')).toBe(now - 10);
    expect(log.prune()).toBe(1);
    expect(log.query().some((r) => r.tokenId === 't-old')).toBe(false);
    log.close();
  });

  it('keeps the audit totals across a restart', () => {
    const file = path.join(dir, 'access-log.db');
    let log = AccessLog.open(file, { retentionDays: 30 });
    expect(log.totals()).toEqual({});
    log.saveTotals({ stored: 10, 'rejected:invalid_json': 2 });
    log.close();
    log = AccessLog.open(file, { retentionDays: 30 });
    expect(log.totals()).toEqual({ stored: 10, 'rejected:invalid_json': 2 });
    log.close();
  });

  it('forgets pruned rows physically (secure_delete)', () => {
    const file = path.join(dir, 'access-log.db');
    const log = AccessLog.open(file, { retentionDays: 1, now: () => now });
    const marker = 'tok-marker-3f9a7c';
    for (let i = 0; i < 50; i++) log.record(entry(now - 3 * 86_400, marker));
    log.flush();
    expect(log.prune()).toBe(50);
    log.close();
    const bytes = Buffer.concat([fs.readFileSync(file), ...(fs.existsSync(`${file}-wal`) ? [fs.readFileSync(`${file}-wal`)] : [])]);
    expect(bytes.includes(Buffer.from(marker))).toBe(false);
  });

  it('the middleware records requests made with a token, not anonymous ones', async () => {
    const log = AccessLog.open(path.join(dir, 'access-log.db'), { retentionDays: 30, now: () => now });
    const app = express();
    const api = express.Router();
    api.use(log.middleware());
    api.use((req, res, next) => {
      if (req.headers.authorization === 'Bearer good') res.locals.principal = { kind: 'token', token: { id: 'tok1', role: 'viewer' } };
      next();
    });
    api.get('/zones/:id/series', (_req, res) => void res.json({ ok: true }));
    api.get('/zones/:id/missing', (_req, res) => void res.status(404).json({}));
    app.use('/api/v1', api);
    const server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await fetch(`${base}/api/v1/zones/front/series?from=100&to=200&step=60`, { headers: { authorization: 'Bearer good' } });
      await fetch(`${base}/api/v1/zones/front/series?from=100&to=200`);
      await fetch(`${base}/api/v1/zones/back/missing`, { headers: { authorization: 'Bearer good' } });
      await new Promise((r) => setImmediate(r));
      const rows = log.query();
      expect(rows).toHaveLength(2);
      expect(rows.map((r) => [r.tokenId, r.role, r.targetKind, r.targetId, r.from, r.to, r.status])).toEqual([
        ['tok1', 'viewer', 'zone', 'back', null, null, 404],
        ['tok1', 'viewer', 'zone', 'front', 100, 200, 200],
      ]);
    } finally {
      server.close();
      log.close();
    }
  });
});

describe('the access log in a running aggregator', () => {
  it('records token reads, shows them to the privacy officer, gives tokens their last use, and keeps the audit totals across a restart', async () => {
    const { startAedes } = await import('@passant/test-helpers/aedes-broker');
    const { startTestAggregator } = await import('../helpers/aggregator.ts');
    const { tokenCommand } = await import('../../src/auth/token-command.ts');
    const { countsMessage } = await import('../helpers/messages.ts');
    const broker = await startAedes();
    const dataDir = dir;
    const config = { zones: [{ id: 'front', name: 'Front', sensors: ['s1'] }], auth: { public: { zones: 'none' as const, sites: 'none' as const } } };
    let agg = await startTestAggregator(broker.url, config, { dataDir });
    try {
      const viewer = agg.tokens.create({ role: 'viewer', zones: ['front'], name: 'shop' });
      const privacy = agg.tokens.create({ role: 'privacy', name: 'officer' });
      await agg.store.put([countsMessage('s1', 1_699_920_000, 9)], 1_699_920_100);
      agg.metrics.ingestMessages.inc({ result: 'stored', reason: 'none' }, 1);
      const read = await fetch(`${agg.url}/api/v1/zones/front/series?from=1699920000&to=1699923600&step=3600`, { headers: { authorization: `Bearer ${viewer.token}` } });
      expect(read.status).toBe(200);
      await read.arrayBuffer();
      // the public reads nothing here and is not recorded; the viewer is not allowed to read the log
      expect((await fetch(`${agg.url}/api/v1/privacy/access-log`, { headers: { authorization: `Bearer ${viewer.token}` } })).status).toBe(403);
      const log = (await (await fetch(`${agg.url}/api/v1/privacy/access-log?token=${viewer.info.id}`, { headers: { authorization: `Bearer ${privacy.token}` } })).json()) as {
        retentionDays: number;
        entries: { tokenId: string; role: string; path: string; targetKind: string; targetId: string; from: number; to: number; status: number }[];
      };
      expect(log.retentionDays).toBe(90);
      expect(log.entries.map((e) => [e.tokenId, e.role, e.path, e.targetKind, e.targetId, e.from, e.to, e.status])).toEqual([
        [viewer.info.id, 'viewer', '/api/v1/zones/front/series', 'zone', 'front', 1699920000, 1699923600, 200],
        [viewer.info.id, 'viewer', '/api/v1/privacy/access-log', null, null, null, null, 403],
      ].reverse());
      const audit1 = (await (await fetch(`${agg.url}/api/v1/privacy/audit`, { headers: { authorization: `Bearer ${privacy.token}` } })).json()) as { since: number; ingest: { stored: number } };
      expect(audit1.ingest.stored).toBe(1);
      await agg.close();

      // token list shows the last use, from the access log
      let out = '';
      const yaml = path.join(dataDir, 'config.yaml');
      fs.writeFileSync(yaml, `data:\n  dir: ${dataDir}\n`);
      expect(tokenCommand(['list', '--config', yaml], { out: (t) => (out += t), err: () => undefined, env: {} })).toBe(0);
      expect(out).toMatch(new RegExp(`${viewer.info.id} .*last used \\d{4}-`));

      // a restart keeps the totals: one more stored message counts on top of the first run's
      agg = await startTestAggregator(broker.url, config, { dataDir });
      agg.metrics.ingestMessages.inc({ result: 'stored', reason: 'none' }, 2);
      const audit2 = (await (await fetch(`${agg.url}/api/v1/privacy/audit`, { headers: { authorization: `Bearer ${privacy.token}` } })).json()) as { since: number; ingest: { stored: number } };
      expect(audit2.ingest.stored).toBe(3);
      expect(audit2.since).toBe(audit1.since);
    } finally {
      await agg.close();
      await broker.close();
    }
  });
});
