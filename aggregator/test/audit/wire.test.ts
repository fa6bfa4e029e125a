/**
 * The audit's wire ledger and code check on messages built here: each violation is named by its reason only
 * (never a value of the message, which may carry an address), per sensor; a sensor whose status reports no build
 * or an untrusted one fails the code check; and the command refuses wrong usage before connecting anywhere.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { countsMessageJsonSchema, topics } from '@passant/shared';
import { describe, expect, it } from 'vitest';
import { bundleSha256 } from '../../../sensor-agent/src/build-info.ts';
import { buildDirSha256, codeCheck, wireCheck } from '../../src/audit/audit.ts';
import { auditCommand } from '../../src/audit/audit-command.ts';
import { WireLedger } from '../../src/audit/wire.ts';
import { countsMessage } from '../helpers/messages.ts';

const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const ADDRESS = 0xa4c3f0123456;

describe('the wire ledger', () => {
  it('names each violation by its reason and sensor, and never repeats what the message held', () => {
    const ledger = new WireLedger(countsMessageJsonSchema());
    const ok = countsMessage('s-1', 1_700_000_040, 8, 4);
    ledger.receive(topics.sensorCounts('s-1'), buf(ok));
    ledger.receive(topics.sensorCounts('s-1'), buf({ ...countsMessage('s-1', 1_700_000_100, 8, 4), seq: ok.seq + 1 }));
    const bad = countsMessage('s-2', 1_700_000_040, 8, 4);
    ledger.receive(topics.sensorCounts('s-2'), buf({ ...bad, a4c3f0123456: 1 }));
    ledger.receive(topics.sensorCounts('s-2'), buf({ ...bad, seq: ADDRESS }));
    const histogram = countsMessage('s-2', 1_700_000_100, 8, 4);
    histogram.wifi.rssiHistogram = [0, 0, 0, ADDRESS % 1_000_000, 0, 0];
    ledger.receive(topics.sensorCounts('s-2'), buf(histogram));
    ledger.receive(topics.sensorCounts('s-2'), buf({ ...countsMessage('s-3', 1_700_000_160, 8, 4) }));
    ledger.receive(topics.sensorCounts('s-2'), buf('{"v":1,'));
    const later = countsMessage('s-1', 1_700_000_160, 8, 4);
    ledger.receive(topics.sensorCounts('s-1'), buf({ ...later, seq: ok.seq })); // a newer window with an older seq
    const check = wireCheck(ledger, 5);
    expect(check.pass).toBe(false);
    const s1 = check.findings.find((f) => f.subject === 's-1')!;
    const s2 = check.findings.find((f) => f.subject === 's-2')!;
    expect(s1).toMatchObject({ ok: false });
    expect(s1.en).toContain('implausible: seq_not_following (1x)');
    expect(s2.en).toContain('schema: unknown field in the message (1x)');
    expect(s2.en).toContain('implausible: seq_implausible (1x)');
    expect(s2.en).toContain('implausible: histogram_above_frames (1x)');
    expect(s2.en).toContain('sensorId differs from the topic (1x)');
    expect(s2.en).toContain('not JSON (1x)');
    expect(JSON.stringify(check)).not.toMatch(/a4c3f0123456|180591463240790|463240790/i);
  });

  it('fails the code check for a status without a build, an untrusted build, or no trusted build at all', () => {
    const ledger = new WireLedger(null);
    const status = (id: string, extra: Record<string, unknown>) =>
      ledger.receive(topics.sensorStatus(id), buf({ v: 1, state: 'online', role: 'sensor', id, version: '0.1.0', ...extra }));
    status('s-1', {});
    status('s-2', { version: '0.1.0-a4c3f0123456' });
    const wire = wireCheck(ledger, 5);
    const s2 = wire.findings.find((f) => f.subject === 's-2')!;
    // a version that is not x.y.z is a violation and never repeated (the field is free text)
    expect(s2).toMatchObject({ ok: false });
    expect(s2.en).toContain('status version is not a plain version number (x.y.z) (1x)');
    expect(JSON.stringify(wire)).not.toContain('a4c3f0123456');
    ledger.sensors.delete('s-2');
    const check = codeCheck(ledger, ['ab'.repeat(32)]);
    expect(check.pass).toBe(false);
    expect(check.findings).toEqual([expect.objectContaining({ subject: 's-1', ok: false, en: 'its status reports no build hash: its code cannot be verified' })]);
    expect(codeCheck(ledger, []).findings[0]).toMatchObject({ subject: '(builds)', ok: false });
  });

  it('flags a sensor that still counts after its activeUntil day', () => {
    const ledger = new WireLedger(null, [{ id: 's-1', activeUntil: '2023-11-14' }, { id: 's-2' }]);
    const day = Date.parse('2023-11-14T00:00:00Z') / 1000;
    ledger.receive(topics.sensorCounts('s-1'), buf(countsMessage('s-1', day + 86_400 - 60, 8, 4))); // the day's last minute
    ledger.receive(topics.sensorCounts('s-2'), buf(countsMessage('s-2', day + 86_400, 8, 4)));
    expect(wireCheck(ledger, 5).pass).toBe(true);
    ledger.receive(topics.sensorCounts('s-1'), buf(countsMessage('s-1', day + 86_400, 8, 4))); // the next day
    const check = wireCheck(ledger, 5);
    expect(check.findings.find((f) => f.subject === 's-1')).toMatchObject({ ok: false });
    expect(check.findings.find((f) => f.subject === 's-1')!.en).toContain('counts after its activeUntil day (1x)');
  });

  it('fails when nothing was heard', () => {
    const check = wireCheck(new WireLedger(null), 5);
    expect(check.pass).toBe(false);
    expect(check.findings[0]!.en).toContain('no counts message in 5 s');
  });
});

describe('the hash of a sensor build made here', () => {
  it('is the sensor\'s own definition (every .mjs below dist, in path byte order, concatenated)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-build-'));
    try {
      fs.mkdirSync(path.join(dir, 'chunks'));
      fs.writeFileSync(path.join(dir, 'passant-sensor.mjs'), 'entry();\n');
      fs.writeFileSync(path.join(dir, 'chunks', 'a-1.mjs'), 'chunk(1);\n');
      fs.writeFileSync(path.join(dir, 'chunks', 'B-2.mjs'), 'chunk(2);\n');
      fs.writeFileSync(path.join(dir, 'passant-sensor.mjs.map'), '{}');
      expect(buildDirSha256(dir)).toBe(bundleSha256(dir));
      fs.writeFileSync(path.join(dir, 'chunks', 'B-2.mjs'), 'chunk(3);\n');
      expect(buildDirSha256(dir)).toBe(bundleSha256(dir));
      expect(() => buildDirSha256(path.join(dir, 'chunks', 'none'))).toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('passant-aggregator audit (command line)', () => {
  it('refuses wrong usage with exit code 2 before connecting', async () => {
    const saved = process.env.PASSANT_AUDIT_TOKEN;
    delete process.env.PASSANT_AUDIT_TOKEN;
    try {
      expect(await auditCommand(['--api', 'http://127.0.0.1:1'])).toBe(2);
      expect(await auditCommand(['--mqtt-url', 'mqtt://127.0.0.1:1', '--api', 'http://127.0.0.1:1'])).toBe(2); // no token
      process.env.PASSANT_AUDIT_TOKEN = 'x';
      expect(await auditCommand(['--mqtt-url', 'mqtt://127.0.0.1:1', '--api', 'http://127.0.0.1:1', '--build-hash', 'abc'])).toBe(2);
      expect(await auditCommand(['--mqtt-url', 'mqtt://127.0.0.1:1', '--api', 'http://127.0.0.1:1', '--from', '61', '--to', '120'])).toBe(2);
      expect(await auditCommand(['--bogus'])).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.PASSANT_AUDIT_TOKEN;
      else process.env.PASSANT_AUDIT_TOKEN = saved;
    }
  });
});
