/** The token database: a real SQLite file in a temp dir. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCreateInput, hashToken, TokenStore } from '../../src/auth/token-store.ts';
import { makeDataDir, removeDir } from '../helpers/aggregator.ts';

let dir: string;
let file: string;

beforeEach(() => {
  dir = makeDataDir();
  file = path.join(dir, 'sub', 'tokens.db');
});

afterEach(() => removeDir(dir));

describe('TokenStore', () => {
  it('creates a 32-byte random token, stores only its SHA-256, and verifies it', () => {
    const store = TokenStore.open(file);
    try {
      const { token, info } = store.create({ role: 'viewer', zones: ['front', 'front'], name: 'Shop 12' }, 1_700_000_000);
      expect(token).toMatch(/^pst_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
      expect(info).toEqual({ id: expect.stringMatching(/^[0-9a-f]{12}$/), role: 'viewer', name: 'Shop 12', zones: ['front'], sites: [], owners: [], createdAt: 1_700_000_000, revokedAt: null, expiresAt: null });
      expect(store.verify(token)).toEqual(info);
      const other = store.create({ role: 'admin' });
      expect(other.token).not.toBe(token);
      expect(store.verify(other.token)?.role).toBe('admin');
    } finally {
      store.close();
    }
    // the secret is nowhere in the files; its hash is
    const bytes = fs.readdirSync(path.dirname(file)).map((f) => fs.readFileSync(path.join(path.dirname(file), f)).toString('latin1')).join('');
    const reopened = TokenStore.open(file);
    try {
      const [first] = reopened.list();
      expect(first?.name).toBe('Shop 12');
    } finally {
      reopened.close();
    }
    expect(bytes).not.toMatch(/pst_/);
  });

  it('keeps the hash, not the token, and the file is readable by its owner only', () => {
    const store = TokenStore.open(file);
    let token: string;
    try {
      token = store.create({ role: 'privacy' }).token;
    } finally {
      store.close();
    }
    const raw = fs.readFileSync(file).toString('latin1') + (fs.existsSync(`${file}-wal`) ? fs.readFileSync(`${file}-wal`).toString('latin1') : '');
    expect(raw).not.toContain(token);
    expect(raw).toContain(hashToken(token));
    expect(fs.statSync(file).mode & 0o077).toBe(0);
  });

  it('refuses malformed, unknown and revoked tokens', () => {
    const store = TokenStore.open(file);
    try {
      const { token, info } = store.create({ role: 'viewer', sites: ['town'] });
      for (const bad of ['', 'pst_', `${token}x`, token.slice(0, -1), token.toUpperCase(), `Bearer ${token}`, "pst_' OR 1=1 --", `pst_${'A'.repeat(43)}`]) {
        expect(store.verify(bad)).toBeNull();
      }
      expect(store.isActive(info.id)).toBe(true);
      expect(store.revoke(info.id, 1_700_000_100)).toBe('revoked');
      expect(store.revoke(info.id)).toBe('already_revoked');
      expect(store.revoke('nope')).toBe('not_found');
      expect(store.verify(token)).toBeNull();
      expect(store.isActive(info.id)).toBe(false);
      expect(store.get(info.id)?.revokedAt).toBe(1_700_000_100);
    } finally {
      store.close();
    }
  });

  it('a revocation by another connection (the CLI) is seen at once', () => {
    const server = TokenStore.open(file);
    const cli = TokenStore.open(file);
    try {
      const { token, info } = cli.create({ role: 'admin' });
      expect(server.verify(token)?.id).toBe(info.id);
      cli.revoke(info.id);
      expect(server.verify(token)).toBeNull();
    } finally {
      cli.close();
      server.close();
    }
  });

  it('checks what a token may be', () => {
    expect(checkCreateInput({ role: 'viewer' })).toEqual([expect.stringMatching(/needs at least one --zone, --site or --owner/)]);
    expect(checkCreateInput({ role: 'admin', zones: ['a'] })).toEqual([expect.stringMatching(/for viewer tokens/)]);
    expect(checkCreateInput({ role: 'viewer', zones: ['Bad Zone'] })).toEqual([expect.stringMatching(/not a valid zone or site id/)]);
    expect(checkCreateInput({ role: 'viewer', zones: ['a'], name: 'x\ny' })).toEqual([expect.stringMatching(/name must be/)]);
    expect(checkCreateInput({ role: 'root' as never })).toContainEqual(expect.stringMatching(/role must be one of viewer, admin, privacy/));
    expect(checkCreateInput({ role: 'viewer', zones: ['a'], name: 'Shop <b>12</b>' })).toEqual([]);
    const store = TokenStore.open(file);
    try {
      expect(() => store.create({ role: 'viewer' })).toThrow(/at least one/);
      expect(store.list()).toEqual([]);
    } finally {
      store.close();
    }
  });
});
