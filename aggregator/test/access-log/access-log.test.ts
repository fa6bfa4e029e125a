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
