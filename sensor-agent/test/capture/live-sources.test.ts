/**
 * Live sources: a spawned capture tool whose output is parsed as a stream. Here the tools read files
 * (`tcpdump -r FILE -w -`, a shell writing a btsnoop log to descriptor 3), and the counts must equal counting
 * the same file directly.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '@passant/test-helpers/tools';
import { countFiles } from '../../src/count.ts';
import type { WindowCounts } from '../../src/pipeline/types.ts';
import { WindowCounter } from '../../src/pipeline/window-counter.ts';
import { LiveBleSource, defaultBleCommand } from '../../src/sources/live-ble.ts';
import { LiveWifiSource, PROBE_REQUEST_FILTER, defaultWifiCommand } from '../../src/sources/live-wifi.ts';
import { BTSNOOP, LINKTYPE, hciLeAdvReport, radiotapProbeRequest, writeBtsnoop, writePcap } from '../helpers/pcap-writer.ts';

const CAPTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/captures');
const hasTcpdump = requireTool('tcpdump', 'tcpdump');
const T = 1_700_000_040_000;

function memoryLogger(): { logger: pino.Logger; lines: () => string } {
  const chunks: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void chunks.push(s) });
  return { logger, lines: () => chunks.join('') };
}

/** Windows from counting `file` directly (what the live path must reproduce). */
async function direct(file: string): Promise<WindowCounts[]> {
  const out: WindowCounts[] = [];
  await countFiles([file], {}, { onWindow: (w) => void out.push(w) });
  return out;
}

async function live(source: LiveWifiSource | LiveBleSource): Promise<{ windows: WindowCounts[]; summary: Awaited<ReturnType<LiveWifiSource['run']>> }> {
  const windows: WindowCounts[] = [];
  const counter = new WindowCounter({ windowSeconds: 60, rssiFloor: null, sink: { onWindow: (w) => void windows.push(w) } });
  const summary = await source.run(counter);
  await counter.flush();
  return { windows, summary };
}

describe('live sources', () => {
  let dir: string;
  let wifiFile: string;
  let bleFile: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-live-'));
    wifiFile = path.join(dir, 'wifi.pcap');
    writePcap(
      wifiFile,
      [
        { timeMs: T + 1000, data: radiotapProbeRequest({ src: '02:00:00:00:00:01', rssi: -50 }) },
        { timeMs: T + 2000, data: radiotapProbeRequest({ src: '00:11:22:33:44:55', rssi: -60, type: 0, subtype: 8 }) },
        { timeMs: T + 70_000, data: radiotapProbeRequest({ src: '00:11:22:33:44:55', rssi: -60 }) },
      ],
      { linkType: LINKTYPE.RADIOTAP },
    );
    bleFile = path.join(dir, 'hci.btsnoop');
    writeBtsnoop(
      bleFile,
      [
        { timeMs: T + 5, data: hciLeAdvReport({ addr: 'de:ad:be:ef:00:01', addrType: 1 }) },
        { timeMs: T + 65_000, data: hciLeAdvReport({ addr: 'de:ad:be:ef:00:02', addrType: 0 }) },
      ],
      BTSNOOP.MONITOR,
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the built-in commands are tcpdump with a probe-request filter, and btmon writing btsnoop to descriptor 3', () => {
    expect(defaultWifiCommand('wlan0mon')).toEqual(['tcpdump', '-i', 'wlan0mon', '-U', '-w', '-', PROBE_REQUEST_FILTER]);
    expect(defaultBleCommand('hci0')).toEqual(['btmon', '-i', 'hci0', '-w', '/dev/fd/3']);
  });

  it.skipIf(!hasTcpdump)('Wi-Fi: tcpdump -r FILE -w - with the probe-request filter counts the same as the file', async () => {
    const files = [wifiFile];
    for (const f of ['wifi_brno-lab_esp32_pos1_2022-10-19.pcap', 'wifi_mixed-traffic_samsungA53_04.pcapng']) {
      if (fs.existsSync(path.join(CAPTURES, f))) files.push(path.join(CAPTURES, f));
    }
    for (const file of files) {
      const { logger, lines } = memoryLogger();
      const source = new LiveWifiSource({ iface: 'unused', command: ['tcpdump', '-r', file, '-w', '-', PROBE_REQUEST_FILTER], logger });
      const { windows, summary } = await live(source);
      expect(windows, file).toEqual(await direct(file));
      expect(summary.exitCode).toBe(0);
      expect(summary.detections).toBeGreaterThan(0);
      // tcpdump's stderr went to the log; no address did.
      expect(lines()).toMatch(/"line":"reading from file[^"]*","msg":"capture tool says"/);
      expect(lines()).not.toMatch(/00:11:22|001122/i);
    }
  });

  it.skipIf(!hasTcpdump)('close() stops a tool that keeps running and resolves with what was read', async () => {
    const source = new LiveWifiSource({ iface: 'unused', command: ['sh', '-c', `tcpdump -r '${wifiFile}' -w - 2>/dev/null; exec sleep 30`] });
    const windows: WindowCounts[] = [];
    const counter = new WindowCounter({ windowSeconds: 60, rssiFloor: null, sink: { onWindow: (w) => void windows.push(w) } });
    let seen = 0;
    const running = source.run({
      detect(...args: Parameters<WindowCounter['detect']>) {
        seen++;
        counter.detect(...args);
      },
    });
    // Wait until both probe requests are in (the tool then sleeps), then stop it.
    for (const deadline = Date.now() + 10_000; seen < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await source.close();
    const summary = await running;
    await counter.flush();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(summary.detections).toBe(2);
    expect(windows.map((w) => w.wifi.frames)).toEqual([1, 1]);
  });

  it('a missing program or a failing tool rejects with a clear error', async () => {
    const counter = new WindowCounter({ windowSeconds: 60, rssiFloor: null, sink: { onWindow: () => undefined } });
    await expect(new LiveWifiSource({ iface: 'x', command: ['passant-no-such-tool'] }).run(counter)).rejects.toThrow(
      /cannot start capture tool passant-no-such-tool: not found/,
    );
    await expect(new LiveWifiSource({ iface: 'x', command: ['sh', '-c', 'echo "permission denied" >&2; exit 3'] }).run(counter)).rejects.toThrow(
      /sh stopped with exit code 3: permission denied/,
    );
    await expect(new LiveWifiSource({ iface: 'x', command: ['sh', '-c', 'echo this is no capture'] }).run(counter)).rejects.toThrow(
      /unreadable capture stream: not a capture file/,
    );
  });

  it('logs the tool\'s stderr with address-like text replaced', async () => {
    const { logger, lines } = memoryLogger();
    const counter = new WindowCounter({ windowSeconds: 60, rssiFloor: null, sink: { onWindow: () => undefined } });
    const script = `echo "seen 3C:22:FB:12:34:56, 3c-22-fb-12-34-57, 3c22.fb12.3458 and 3c22fb123459 on wlan0" >&2; cat '${bleFile}'`;
    await new LiveBleSource({ adapter: 'hci0', command: ['sh', '-c', script], logger }).run(counter);
    expect(lines()).toContain('seen (address), (address), (address) and (address) on wlan0');
    expect(lines()).not.toMatch(/3c.?22|fb.?12/i);
  });

  it('BLE: reads btsnoop from descriptor 3 and never reads the decoded text on stdout', async () => {
    const { logger, lines } = memoryLogger();
    const source = new LiveBleSource({
      adapter: 'hci0',
      command: ['sh', '-c', `echo "> HCI Event: LE Meta Event, Address: DE:AD:BE:EF:00:01"; cat '${bleFile}' >&3`],
      outputFd: 3,
      logger,
    });
    const { windows, summary } = await live(source);
    expect(windows).toEqual(await direct(bleFile));
    expect(windows.map((w) => [w.ble.devices, w.ble.randomized])).toEqual([
      [1, 1],
      [1, 0],
    ]);
    expect(summary.detections).toBe(2);
    expect(lines()).not.toMatch(/DE:AD:BE:EF/i);
  });

  it('BLE: a configured command writes to stdout by default', async () => {
    const source = new LiveBleSource({ adapter: 'hci0', command: ['cat', bleFile] });
    const { windows } = await live(source);
    expect(windows).toEqual(await direct(bleFile));
  });
});
