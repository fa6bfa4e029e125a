/**
 * Remnants: once a chunk of a capture is parsed, the buffers the sensor handed to the counter (its read buffers
 * and the parser's copies of records split across chunks) hold zeros, not frames. Checked for the capture-file
 * source (small chunks, so records are split) and for a spawned capture tool (the live path).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Radio } from '@passant/shared';
import type { DetectionSink } from '../../src/pipeline/types.ts';
import { FileSource } from '../../src/sources/file-source.ts';
import { LiveWifiSource } from '../../src/sources/live-wifi.ts';
import { LINKTYPE, radiotapProbeRequest, writePcap } from '../helpers/pcap-writer.ts';

const T = 1_700_000_040_000;
const ADDRESSES = Array.from({ length: 40 }, (_, i) => `02:5a:${(i + 16).toString(16)}:c3:d4:e5`);

/** A sink that keeps every buffer it was handed (what a careless consumer could read later) and the addresses seen then. */
function recordingSink(): DetectionSink & { buffers: Set<Uint8Array>; seen: string[] } {
  const buffers = new Set<Uint8Array>();
  const seen: string[] = [];
  return {
    buffers,
    seen,
    detect(_timeMs: number, _radio: Radio, buf: Uint8Array, offset: number) {
      buffers.add(buf);
      seen.push(Buffer.from(buf.subarray(offset, offset + 6)).toString('hex'));
    },
  };
}

function expectAllZero(buffers: Set<Uint8Array>): void {
  expect(buffers.size).toBeGreaterThan(0);
  for (const b of buffers) expect(b.every((x) => x === 0)).toBe(true);
}

describe('capture buffers are zeroed once parsed', () => {
  let dir: string;
  let file: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-zeroed-'));
    file = path.join(dir, 'probes.pcap');
    writePcap(
      file,
      ADDRESSES.map((src, i) => ({ timeMs: T + i * 100, data: radiotapProbeRequest({ src, rssi: -50 }) })),
      { linkType: LINKTYPE.RADIOTAP },
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('file source: read buffer and split-record copies', async () => {
    const sink = recordingSink();
    // 97-byte chunks: most records are split across two chunks, so the parser's own copies are exercised too.
    const summary = await new FileSource([file], { chunkBytes: 97 }).run(sink);
    expect(summary.detections).toBe(ADDRESSES.length);
    expect(new Set(sink.seen)).toEqual(new Set(ADDRESSES.map((a) => a.replaceAll(':', ''))));
    expect(sink.buffers.size).toBeGreaterThan(1);
    expectAllZero(sink.buffers);
  });

  it('spawned capture tool: the read buffer', async () => {
    const sink = recordingSink();
    const summary = await new LiveWifiSource({ iface: 'unused', command: ['cat', file] }).run(sink);
    expect(summary.detections).toBe(ADDRESSES.length);
    expectAllZero(sink.buffers);
  });
});
