/**
 * Tokens and invitations through the API: an admin creates, lists (with last use) and revokes tokens; an invitation
 * becomes a viewer token once, and is refused after that or once expired. No secret or code reaches the log or a
 * database file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes } from '@passant/test-helpers/aedes-broker';
import { waitFor } from '@passant/test-helpers/wait';
import { invitationsFileOf } from '../../src/auth/invitations.ts';
import { makeDataDir, removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';

let broker: Awaited<ReturnType<typeof startAedes>>;
let agg: TestAggregator;
let dataDir: string;
let admin: string;
let now = 1_800_000_000;

function call(method: string, url: string, token: string | null, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${agg.url}${url}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

function everyFileText(): string {
  return fs
    .readdirSync(dataDir)
    .filter((f) => /\.db(-wal)?$/.test(f))
    .map((f) => fs.readFileSync(path.join(dataDir, f)).toString('latin1'))
    .join('\n');
}

beforeAll(async () => {
  broker = await startAedes();
  dataDir = makeDataDir();
  agg = await startTestAggregator(
    broker.url,
    {
      zones: [
        { id: 'shop', name: 'Shop', sensors: ['s1'], owners: ['Bakery'] },
        { id: 'square', name: 'Square', sensors: ['s2'] },
      ],
      http: { rateLimitPerMinute: 0 },
    },
    { dataDir, now: () => now },
  );
  admin = agg.tokens.create({ role: 'admin' }).token;
});

afterAll(async () => {
  await agg?.close();
  await broker?.close();
  removeDir(dataDir);
});

describe('tokens through the API', () => {
  it('an admin creates, lists with last use, and revokes; nobody else may', async () => {
    const created = await call('POST', '/api/v1/tokens', admin, { role: 'viewer', name: 'Shop 12', zones: ['shop'], expiresAt: now + 86_400 * 400 });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; token: string; role: string; zones: string[]; expiresAt: number };
    expect(body).toMatchObject({ role: 'viewer', zones: ['shop'], expiresAt: now + 86_400 * 400 });
    expect(body.token).toMatch(/^pst_/);
    // the new token works, and its use is the last use the list shows
    expect((await call('GET', '/api/v1/zones/shop/series', body.token)).status).toBe(200);
    // (the access log records a request once its response is sent: the list may be asked before that)
    type TokenList = { tokens: { id: string; lastUsedAt: number | null; token?: string }[] };
    const list = await waitFor(async () => {
      const l = (await (await call('GET', '/api/v1/tokens', admin)).json()) as TokenList;
      return l.tokens.find((t) => t.id === body.id)?.lastUsedAt === null ? null : l;
    }, 'the new token\'s use in the list');
    const listed = list.tokens.find((t) => t.id === body.id)!;
    expect(listed.lastUsedAt).toBe(now);
    expect(JSON.stringify(list)).not.toContain(body.token);
    // bad input: clear 400s
    for (const bad of [{ role: 'viewer', zones: ['nowhere'] }, { role: 'viewer' }, { role: 'king' }, { role: 'admin', zones: ['shop'] }, { role: 'viewer', zones: ['shop'], expiresAt: now - 1 }]) {
      expect((await call('POST', '/api/v1/tokens', admin, bad)).status, JSON.stringify(bad)).toBe(400);
    }
    // only an admin
    expect((await call('GET', '/api/v1/tokens', body.token)).status).toBe(403);
    expect((await call('POST', '/api/v1/tokens', body.token, { role: 'admin' })).status).toBe(403);
    expect((await call('GET', '/api/v1/tokens', null)).status).toBe(401);
    expect((await call('DELETE', `/api/v1/tokens/${body.id}`, body.token)).status).toBe(403);
    // revoked: refused from the next request on
    const revoked = await call('DELETE', `/api/v1/tokens/${body.id}`, admin);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revokedAt: number }).revokedAt).toBe(now);
    expect((await call('GET', '/api/v1/zones/shop/series', body.token)).status).toBe(401);
    expect((await call('DELETE', '/api/v1/tokens/nope', admin)).status).toBe(404);
    expect(agg.logText()).not.toContain(body.token);
  });

  it('an expired token is refused', async () => {
    const made = (await (await call('POST', '/api/v1/tokens', admin, { role: 'privacy', expiresAt: now + 2 })).json()) as { token: string };
    expect((await call('GET', '/api/v1/me', made.token)).status).toBe(200);
    now += 2;
    expect((await call('GET', '/api/v1/me', made.token)).status).toBe(401);
    const stale = agg.tokens.create({ role: 'privacy', expiresAt: now - 1 });
    expect((await call('GET', '/api/v1/me', stale.token)).status).toBe(401);
  });
});

describe('invitations', () => {
  it('one use makes a viewer token of the chosen scope; a second use is refused with a clear message', async () => {
    const res = await call('POST', '/api/v1/invitations', admin, { name: 'Bakery owner', owners: ['Bakery'] });
    expect(res.status).toBe(201);
    const inv = (await res.json()) as { id: string; code: string; expiresAt: number; usedAt: null };
    expect(inv.code).toMatch(/^inv_/);
    expect(inv.expiresAt).toBe(now + 7 * 86_400);

    const first = await call('POST', '/api/v1/invitations/redeem', null, { code: inv.code });
    expect(first.status).toBe(201);
    const token = (await first.json()) as { id: string; token: string; role: string; owners: string[]; name: string };
    expect(token).toMatchObject({ role: 'viewer', owners: ['Bakery'], name: 'Bakery owner' });
    expect((await call('GET', '/api/v1/zones/shop/series', token.token)).status).toBe(200);
    expect((await call('GET', '/api/v1/zones/square/series', token.token)).status).toBe(404);

    const second = await call('POST', '/api/v1/invitations/redeem', null, { code: inv.code });
    expect(second.status).toBe(410);
    const problem = (await second.json()) as { code: string; detail: string };
    expect(problem.code).toBe('invitation_used');
    expect(problem.detail).toMatch(/used already/);

    const list = (await (await call('GET', '/api/v1/invitations', admin)).json()) as { invitations: { id: string; usedAt: number | null; tokenId: string | null }[] };
    expect(list.invitations.find((i) => i.id === inv.id)).toMatchObject({ usedAt: now, tokenId: token.id });
    expect(JSON.stringify(list)).not.toContain(inv.code);
    expect(agg.logText()).not.toContain(inv.code);
    expect(agg.logText()).not.toContain(token.token);
    expect(everyFileText()).not.toContain(inv.code);
    expect(fs.statSync(invitationsFileOf(dataDir)).mode & 0o777).toBe(0o600);
  });

  it('two uses at once make one token', async () => {
    const { code } = (await (await call('POST', '/api/v1/invitations', admin, { zones: ['square'] })).json()) as { code: string };
    const before = agg.tokens.list().length;
    const answers = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/api/v1/invitations/redeem', null, { code })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 410, 410, 410, 410]);
    expect(agg.tokens.list().length).toBe(before + 1);
  });

  it('an expired or unknown code is refused; only an admin invites; bad input is a 400', async () => {
    const { code } = (await (await call('POST', '/api/v1/invitations', admin, { zones: ['shop'], validDays: 1 })).json()) as { code: string };
    now += 86_400;
    const expired = await call('POST', '/api/v1/invitations/redeem', null, { code });
    expect(expired.status).toBe(410);
    expect(((await expired.json()) as { code: string }).code).toBe('invitation_expired');
    expect((await call('POST', '/api/v1/invitations/redeem', null, { code: `inv_${'A'.repeat(43)}` })).status).toBe(404);
    expect((await call('POST', '/api/v1/invitations/redeem', null, { code: 'garbage' })).status).toBe(404);
    expect((await call('POST', '/api/v1/invitations/redeem', null, { nope: 1 })).status).toBe(400);
    const viewer = agg.tokens.create({ role: 'viewer', zones: ['shop'] }).token;
    expect((await call('POST', '/api/v1/invitations', viewer, { zones: ['shop'] })).status).toBe(403);
    expect((await call('POST', '/api/v1/invitations', null, { zones: ['shop'] })).status).toBe(401);
    expect((await call('GET', '/api/v1/invitations', viewer)).status).toBe(403);
    for (const bad of [{ zones: [] }, { zones: ['nowhere'] }, { zones: ['shop'], validDays: 31 }, { owners: ['Nobody'] }]) {
      expect((await call('POST', '/api/v1/invitations', admin, bad)).status, JSON.stringify(bad)).toBe(400);
    }
  });
});
