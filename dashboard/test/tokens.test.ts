import { describe, expect, it } from 'vitest';
import { invitationCodeOf, isCreatedToken } from '../src/api.ts';
import { endOfLocalDay, invitationLink, ownerLabels } from '../src/tokens-parts.ts';

const CODE = `inv_${'a1_-'.repeat(10)}xyz`;

describe('invitation links', () => {
  it('puts the code in the fragment of the page address, never in its query', () => {
    expect(invitationLink('https://passant.example/dash/?lang=nl&period=today#tokens', CODE)).toBe(`https://passant.example/dash/#invite=${CODE}`);
  });

  it('reads the code back from the fragment, and nothing else', () => {
    expect(invitationCodeOf(`#invite=${CODE}`)).toBe(CODE);
    expect(invitationCodeOf(`invite=${CODE}`)).toBe(CODE);
    for (const hash of ['', '#tokens', '#invite=', `#invite=${CODE}&x=1`, '#invite=<script>', `#invite=${'a'.repeat(201)}`]) {
      expect(invitationCodeOf(hash), hash).toBeNull();
    }
  });
});

describe('the token form', () => {
  it('reads owner labels as a comma-separated list, each once', () => {
    expect(ownerLabels(' Bakkerij Jansen, ,Slagerij,Bakkerij Jansen ')).toEqual(['Bakkerij Jansen', 'Slagerij']);
    expect(ownerLabels('  ')).toEqual([]);
  });

  it('makes a last valid day into the first second after it, in local time', () => {
    expect(endOfLocalDay('2026-03-28')).toBe(new Date(2026, 2, 29).getTime() / 1000);
    expect(endOfLocalDay('2026-12-31')).toBe(new Date(2027, 0, 1).getTime() / 1000);
    expect(endOfLocalDay('')).toBeNull();
    expect(endOfLocalDay('31-12-2026')).toBeNull();
  });
});

describe('isCreatedToken', () => {
  const made = { id: 'tok_1', role: 'viewer', name: null, zones: ['markt'], sites: [], owners: [], createdAt: 1, revokedAt: null, expiresAt: null, token: 'pst_x' };
  it('accepts the answer of POST /tokens and of a redeemed invitation', () => {
    expect(isCreatedToken(made)).toBe(true);
  });
  it.each([
    ['no secret', { ...made, token: undefined }],
    ['an empty secret', { ...made, token: '' }],
    ['an unknown role', { ...made, role: 'root' }],
    ['zones not a list', { ...made, zones: 'markt' }],
  ])('refuses %s', (_what, body) => {
    expect(isCreatedToken(body)).toBe(false);
  });
});
