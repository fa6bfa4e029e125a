/**
 * Channel hopping of the live Wi-Fi source. There is no radio here, so `iw` is replaced by a script that records
 * its arguments (a stand-in for the one command that needs hardware; everything else is the real source).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveWifiSource } from '../../src/sources/live-wifi.ts';

describe('LiveWifiSource channel hopping', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  function recorder(): { script: string; calls: () => string[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-iw-'));
    dirs.push(dir);
    const log = path.join(dir, 'calls');
    const script = path.join(dir, 'iw');
    fs.writeFileSync(script, `#!/bin/sh\necho "$@" >> '${log}'\n`, { mode: 0o755 });
    return { script, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []) };
  }

  it('cycles through the configured channels with `iw dev IFACE set channel N` while it runs', async () => {
    const iw = recorder();
    // A capture command that stays up for a while and writes nothing, like tcpdump on a quiet channel.
    const source = new LiveWifiSource({ iface: 'wlan9mon', command: ['sleep', '5'], channels: [1, 6, 11], hopMs: 100, iwCommand: iw.script });
    const running = source.run({ detect: () => {} });
    await new Promise((r) => setTimeout(r, 750));
    await source.close();
    await running.catch(() => {});
    const calls = iw.calls();
    expect(calls.length).toBeGreaterThanOrEqual(4);
    calls.forEach((c, i) => expect(c).toBe(`dev wlan9mon set channel ${[1, 6, 11][i % 3]}`));
    // Stopped with the source: no more hops after close.
    const after = calls.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(iw.calls().length).toBe(after);
  });

  it('does not hop when no channels are configured', async () => {
    const iw = recorder();
    const source = new LiveWifiSource({ iface: 'wlan9mon', command: ['sleep', '5'], hopMs: 100, iwCommand: iw.script });
    const running = source.run({ detect: () => {} });
    await new Promise((r) => setTimeout(r, 400));
    await source.close();
    await running.catch(() => {});
    expect(iw.calls()).toEqual([]);
  });
});
