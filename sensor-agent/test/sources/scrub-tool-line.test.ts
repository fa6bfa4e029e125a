/** What a capture tool prints on stderr is logged only after every address-like spelling is replaced. */
import { describe, expect, it } from 'vitest';
import { scrubToolLine } from '../../src/sources/capture/spawned-capture.ts';

describe('scrubToolLine', () => {
  it.each([
    'from aa:bb:cc:dd:ee:ff',
    'from AA-BB-CC-DD-EE-FF',
    'from aabb.ccdd.eeff',
    'from aabbccddeeff',
    'from 0xAABBCCDDEEFF',
    'mac_aabbccddeeff',
    'hexdump: 0010  aa bb cc dd ee ff 00 11',
    'cut: bb:cc:dd:ee:ff',
    'frame 080045000054aabbccddeeff0800',
  ])('leaves no address in %j', (line) => {
    const out = scrubToolLine(line);
    expect(out).toContain('(address)');
    expect(out.replace(/[^0-9a-f]/gi, '')).not.toMatch(/aabbccddeeff|bbccddeeff/i);
  });

  it('keeps ordinary text and clamps long lines after scrubbing', () => {
    expect(scrubToolLine('tcpdump: listening on wlan0mon, link-type IEEE802_11_RADIO')).toBe(
      'tcpdump: listening on wlan0mon, link-type IEEE802_11_RADIO',
    );
    const long = `${'x'.repeat(295)}aa:bb:cc:dd:ee:ff`;
    expect(scrubToolLine(long)).not.toMatch(/aa:bb/);
    expect(scrubToolLine(long).length).toBeLessThanOrEqual(300);
  });
});
