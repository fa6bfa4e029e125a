import { describe, expect, it } from 'vitest';
import { readTokenInput } from '../src/auth.ts';

const TOKEN = `pst_${'A1b2_-'.repeat(7)}x`; // the aggregator's shape: pst_ and 43 base64url characters

describe('readTokenInput', () => {
  it.each([
    [TOKEN, TOKEN],
    [`  ${TOKEN}\n`, TOKEN],
    [`Bearer ${TOKEN}`, TOKEN], // copied from a curl line
    [`bearer   ${TOKEN}`, TOKEN],
  ])('takes %j', (raw, token) => {
    expect(readTokenInput(raw)).toEqual({ ok: true, token });
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    [`${TOKEN} ${TOKEN}`, 'malformed'],
    [`"${TOKEN}"`, 'malformed'],
    ['pst_<script>', 'malformed'],
    ['x'.repeat(201), 'malformed'],
  ] as const)('refuses %j as %s', (raw, reason) => {
    expect(readTokenInput(raw)).toEqual({ ok: false, reason });
  });
});
