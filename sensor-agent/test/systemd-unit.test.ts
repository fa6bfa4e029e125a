/**
 * The sensor's systemd unit (deploy/systemd/passant-sensor.service): no core dumps and no swap for the agent (a
 * dump or a swapped page could hold frames), and the hardening that does not get in the way of capturing.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const UNIT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/systemd/passant-sensor.service');

/** [Service] settings: key -> values (a key may repeat). */
function serviceSettings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m !== null) {
      section = m[1]!;
      continue;
    }
    if (section !== 'Service') continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

describe('systemd unit of the sensor', () => {
  const s = serviceSettings(fs.readFileSync(UNIT, 'utf8'));
  const one = (key: string): string | undefined => s.get(key)?.at(-1);

  it('no core dumps, no swap', () => {
    expect(one('LimitCORE')).toBe('0');
    expect(one('MemorySwapMax')).toBe('0');
  });

  it('hardened: no new privileges, read-only system with the state directory writable, private tmp, no home', () => {
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('StateDirectory')).toBe('passant-sensor');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('DynamicUser')).toBe('yes');
    // Capturing needs exactly these two capabilities, nothing more.
    expect(one('CapabilityBoundingSet')).toBe('CAP_NET_RAW CAP_NET_ADMIN');
    expect(one('ExecStart')).toMatch(/^\/usr\/bin\/node --max-semi-space-size=1 --single-threaded --no-sparkplug \S+\/passant-sensor\.js run$/);
  });

  it('systemd-analyze accepts it (when systemd is installed)', () => {
    const r = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    if (r.error !== undefined) return; // no systemd here: the settings above are still checked
    // Missing paths of an install (/opt/passant, /etc/passant) are expected here; syntax errors are not.
    expect(r.stderr).not.toMatch(/Unknown (key|section)|Failed to parse|Invalid/i);
  });
});
