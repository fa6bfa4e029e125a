/**
 * The MQTT client options of both programs, built in one place from the `mqtt` section of their configuration
 * (Node only: it reads the TLS files; import it from '@passant/shared/mqtt-options').
 *
 * What both need: a persistent session (clean: false, MQTT 3.1.1), the keepalive, reconnect and connect timings,
 * certificate checking, an offline status as retained QoS 1 last will, and the login and TLS files when set
 * (unset is `undefined`). What only one program needs (resubscribe, write cache, mqtt.js logging...) is passed
 * as `extra` and laid over these.
 */
import fs from 'node:fs';

/** The keys of a program's `mqtt` config section this builder reads. */
export interface MqttConnectionConfig {
  username?: string | undefined;
  password?: string | undefined;
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  rejectUnauthorized: boolean;
  keepaliveSeconds: number;
  reconnectPeriodMs: number;
  connectTimeoutMs: number;
}

/** The options both programs give mqtt.js (a subset of its `IClientOptions`). */
export interface MqttBaseClientOptions {
  clientId: string;
  clean: false;
  protocolVersion: 4;
  keepalive: number;
  reconnectPeriod: number;
  connectTimeout: number;
  rejectUnauthorized: boolean;
  will: { topic: string; payload: Buffer; qos: 1; retain: true };
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface MqttClientOptionsInput<E extends object> {
  clientId: string;
  /** The offline status published by the broker when the client is gone (retained, QoS 1). */
  will: { topic: string; payload: string | Buffer };
  /** Program-specific mqtt.js options, laid over the common ones. */
  extra?: E;
}

/** mqtt.js client options from an `mqtt` config section (see the top of this file). */
export function mqttClientOptions<E extends object = Record<never, never>>(m: MqttConnectionConfig, o: MqttClientOptionsInput<E>): MqttBaseClientOptions & E {
  const options: MqttBaseClientOptions = {
    clientId: o.clientId,
    clean: false,
    protocolVersion: 4,
    keepalive: m.keepaliveSeconds,
    reconnectPeriod: m.reconnectPeriodMs,
    connectTimeout: m.connectTimeoutMs,
    rejectUnauthorized: m.rejectUnauthorized,
    will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1, retain: true },
  };
  if (m.username !== undefined) options.username = m.username;
  if (m.password !== undefined) options.password = m.password;
  if (m.caFile !== undefined) options.ca = fs.readFileSync(m.caFile);
  if (m.certFile !== undefined) options.cert = fs.readFileSync(m.certFile);
  if (m.keyFile !== undefined) options.key = fs.readFileSync(m.keyFile);
  return { ...options, ...(o.extra ?? ({} as E)) };
}

/** The cross-check both programs make of their `mqtt` section: a client certificate needs its key and back. */
export function mqttTlsPairProblems(mqtt: unknown): { path: string[]; message: string }[] {
  const m = typeof mqtt === 'object' && mqtt !== null ? (mqtt as Record<string, unknown>) : {};
  if ((m.certFile === undefined) === (m.keyFile === undefined)) return [];
  return [{ path: ['mqtt', m.certFile === undefined ? 'certFile' : 'keyFile'], message: 'certFile and keyFile go together: set both or neither' }];
}

/** The TLS files of an `mqtt` section that cannot be read, as config problems (checked before connecting). */
export function mqttFileProblems(m: Pick<MqttConnectionConfig, 'caFile' | 'certFile' | 'keyFile'>): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    const file = m[key];
    if (file === undefined) continue;
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch {
      problems.push({ path: `mqtt.${key}`, message: `cannot read ${file}` });
    }
  }
  return problems;
}
