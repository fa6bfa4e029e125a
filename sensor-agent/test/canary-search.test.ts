import { describe, expect, it } from 'vitest';
import { findAddressLeaks } from './helpers/canary.ts';
import { macBytes } from './helpers/pcap-writer.ts';

// The privacy canary is only as good as its search: each spelling must be found where it is planted.
describe('canary search', () => {
  const addr = macBytes('aa:bb:cc:dd:ee:0f');
  const plant = (inner: Buffer | string) => Buffer.concat([Buffer.from('{"x":"'), Buffer.isBuffer(inner) ? inner : Buffer.from(inner), Buffer.from('"}\n')]);
  const cases: [string, Buffer | string][] = [
    ['colon', 'aa:bb:cc:dd:ee:0f'],
    ['colon', 'AA:BB:CC:DD:EE:0F'],
    ['dash', 'aa-bb-cc-dd-ee-0f'],
    ['dash', 'Aa-Bb-Cc-Dd-Ee-0F'],
    ['dot', 'aabb.ccdd.ee0f'],
    ['dot', 'AABB.CCDD.EE0F'],
    ['bare hex', 'aabbccddee0f'],
    ['bare hex', 'AABBCCDDEE0F'],
    ['colon (reversed)', '0f:ee:dd:cc:bb:aa'],
    ['bare hex (reversed)', '0FEEDDCCBBAA'],
    ['raw bytes', Buffer.from(addr)],
    ['raw bytes (reversed)', Buffer.from(addr).reverse()],
    ['base64', Buffer.from(addr).toString('base64')],
  ];
  for (const [spelling, inner] of cases) {
    it(`finds ${spelling}: ${Buffer.isBuffer(inner) ? inner.toString('hex') : inner}`, () => {
      const leaks = findAddressLeaks([{ name: 'h', data: plant(inner) }], [addr]);
      expect(leaks.map((l) => l.spelling.split(' ').slice(0, spelling.split(' ').length).join(' '))).toContain(spelling);
      expect(leaks[0]!.address).toBe('aa:bb:cc:dd:ee:0f');
    });
  }
  it('finds nothing in clean output', () => {
    const clean = Buffer.from(JSON.stringify({ v: 1, sensorId: 's', windowStart: 1710763200, wifi: { devices: 3 } }));
    expect(findAddressLeaks([{ name: 'h', data: clean }], [addr, macBytes('00:11:22:33:44:55')])).toEqual([]);
  });
});
