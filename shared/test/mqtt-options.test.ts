import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mqttClientOptions, mqttFileProblems, mqttTlsPairProblems, type MqttConnectionConfig } from '../src/mqtt-options.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-mqtt-options-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const base: MqttConnectionConfig = { rejectUnauthorized: true, keepaliveSeconds: 30, reconnectPeriodMs: 2000, connectTimeoutMs: 10_000 };

describe('mqtt client options', () => {
  it('builds the common options; unset login and TLS keys are left out', () => {
    const options = mqttClientOptions(base, { clientId: 'passant-sensor-s-1', will: { topic: 'passant/sensors/s-1/status', payload: '{"state":"offline"}' } });
    expect(options).toEqual({
      clientId: 'passant-sensor-s-1',
      clean: false,
      protocolVersion: 4,
      keepalive: 30,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      rejectUnauthorized: true,
      will: { topic: 'passant/sensors/s-1/status', payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
    });
    for (const key of ['username', 'password', 'ca', 'cert', 'key']) expect(Object.hasOwn(options, key), key).toBe(false);
  });

  it('reads the login and the TLS files when set, and lays program-specific options over the common ones', () => {
    const file = (name: string, text: string) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, text);
      return p;
    };
    const m: MqttConnectionConfig = {
      ...base,
      username: 'u',
      password: 'p',
      caFile: file('ca.pem', 'CA'),
      certFile: file('c.pem', 'CERT'),
      keyFile: file('k.pem', 'KEY'),
      rejectUnauthorized: false,
    };
    const options = mqttClientOptions(m, { clientId: 'c', will: { topic: 't', payload: Buffer.from('x') }, extra: { resubscribe: false, writeCache: false, keepalive: 60 } });
    expect(options).toMatchObject({ username: 'u', password: 'p', rejectUnauthorized: false, resubscribe: false, writeCache: false, keepalive: 60 });
    expect([options.ca, options.cert, options.key].map((b) => b!.toString())).toEqual(['CA', 'CERT', 'KEY']);
  });

  it('checks the TLS pair and that the files can be read', () => {
    expect(mqttTlsPairProblems({})).toEqual([]);
    expect(mqttTlsPairProblems({ certFile: 'c', keyFile: 'k' })).toEqual([]);
    expect(mqttTlsPairProblems({ certFile: 'c' })).toEqual([{ path: ['mqtt', 'keyFile'], message: 'certFile and keyFile go together: set both or neither' }]);
    expect(mqttTlsPairProblems({ keyFile: 'k' })[0]!.path).toEqual(['mqtt', 'certFile']);
    expect(mqttTlsPairProblems('not an object')).toEqual([]);
    const missing = path.join(dir, 'ca.pem');
    expect(mqttFileProblems({ caFile: missing })).toEqual([{ path: 'mqtt.caFile', message: `cannot read ${missing}` }]);
    expect(mqttFileProblems({})).toEqual([]);
  });
});
