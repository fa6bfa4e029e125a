/**
 * Channel hopping of the live Wi-Fi source. There is no radio here, so `iw` is replaced by a script that records
 * its arguments (a stand-in for the one command that needs hardware; everything else is the real source).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveWifiSource } from '../../src/sources/live-wifi.ts';
import { waitFor } from '@passant/test-helpers/wait';

/**
 * The hop timer is the subject: setInterval runs on fake timers (the capture's own timeouts and the recorder
 * processes stay real), and every hop is awaited until the recorder has written it.
 */
describe('LiveWifiSource channel hopping', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  function recorder(): { script: string; calls: () => string[]; mark: () => Promise<void> } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-iw-'));
    dirs.push(dir);
    const log = path.join(dir, 'calls');
    const script = path.join(dir, 'iw');
    fs.writeFileSync(script, `#!/bin/sh\necho "$@" >> '${log}'\n`, { mode: 0o755 });
    const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);
    // The test runs the recorder itself as a marker after the periods in which no hop may come: a hop launched in
    // them would have started its recorder before the marker's, so its line shows up in the calls next to the marker.
    const mark = async () => {
      await promisify(execFile)(script, ['marker']);
      await waitFor(() => calls().at(-1) === 'marker', 'the marker line of the recorder', 5000);
    };
    return { script, calls, mark };
  }

  it('cycles through the configured channels with `iw dev IFACE set channel N` while it runs', async () => {
    const iw = recorder();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    // A capture command that stays up for a while and writes nothing, like tcpdump on a quiet channel.
    const source = new LiveWifiSource({ iface: 'wlan9mon', command: ['sleep', '5'], channels: [1, 6, 11], hopMs: 100, iwCommand: iw.script });
    const running = source.run({ detect: () => {} });
    // Seven hop periods, each hop awaited until the recorder has written it.
    for (let i = 1; i <= 7; i++) {
      vi.advanceTimersByTime(100);
      await waitFor(() => iw.calls().length === i, `hop ${i}`, 5000);
    }
    await source.close();
    await running.catch(() => {});
    const calls = iw.calls();
    expect(calls.length).toBe(7);
    calls.forEach((c, i) => expect(c).toBe(`dev wlan9mon set channel ${[1, 6, 11][i % 3]}`));
    // Stopped with the source: no hop timer is left, and ten hop periods later the marker is the only new line.
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    await iw.mark();
    expect(iw.calls()).toEqual([...calls, 'marker']);
  });

  it('does not hop when no channels are configured', async () => {
    const iw = recorder();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const source = new LiveWifiSource({ iface: 'wlan9mon', command: ['sleep', '5'], hopMs: 100, iwCommand: iw.script });
    const running = source.run({ detect: () => {} });
    // No hop timer was set; ten hop periods later the marker is the only line the recorder wrote.
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    await iw.mark();
    await source.close();
    await running.catch(() => {});
    expect(iw.calls()).toEqual(['marker']);
  });
});
