/**
 * A quiet capture is polled only every few seconds; before closing windows the agent asks the source for what it
 * holds (`readPending`), so a frame written just before a window ends is counted in that window. Here the poll
 * interval is a minute: the frame is in the sink only because `readPending` read it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Radio } from '@passant/shared';
import { SpawnedCapture } from '../../src/sources/capture/spawned-capture.ts';
import { waitFor } from '@passant/test-helpers/wait';
import { LINKTYPE, radiotapProbeRequest, writePcap } from '../helpers/pcap-writer.ts';

describe('SpawnedCapture.readPending', () => {
  let dir: string;
  beforeAll(() => void (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-pending-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads what a quiet tool wrote without waiting for the next poll', async () => {
    const file = path.join(dir, 'one.pcap');
    const written = path.join(dir, 'written');
    writePcap(file, [{ timeMs: Date.now(), data: radiotapProbeRequest({ src: '02:11:22:33:44:55', rssi: -50 }) }], { linkType: LINKTYPE.RADIOTAP });
    const seen: Radio[] = [];
    // The tool waits (the first poll, at start, finds nothing), writes one frame, says so in a file, then stays quiet (holding the pipe open) until stopped.
    const capture = new SpawnedCapture({ command: ['sh', '-c', `sleep 0.5; cat '${file}'; touch '${written}'; exec sleep 60`], pollMs: 60_000, maxPollMs: 60_000 });
    const running = capture.run({ detect: (_t, radio) => void seen.push(radio) });
    try {
      await waitFor(() => fs.existsSync(written), 'the tool to write its frame', 15_000);
      // The next poll is a minute away.
      capture.readPending();
      expect(seen).toEqual(['wifi']);
    } finally {
      await capture.close();
    }
    const summary = await running;
    expect(summary.detections).toBe(1);
  });
});
