/**
 * `passant-sensor count` checks each counts message it prints without zod (countsMessageProblem), so that it starts
 * without building the shared schemas. That check must agree with the shared CountsMessageSchema: on a valid
 * message and on every way to break one, both accept or both refuse.
 */
import { describe, expect, it } from 'vitest';
import { CountsMessageSchema, MAX_COUNT, RSSI_BUCKETS, type CountsMessage } from '@passant/shared';
import { countsMessageProblem } from '../../src/count.ts';

function valid(): CountsMessage {
  return {
    v: 1,
    sensorId: 'sensor-1',
    windowStart: 1_700_000_040,
    windowSeconds: 60,
    seq: 7,
    wifi: { devices: 3, randomized: 2, frames: 10, rssiHistogram: [0, 1, 2, 3, 4, 0] },
    ble: { devices: 0, randomized: 0, frames: 0, rssiHistogram: new Array(RSSI_BUCKETS).fill(0) },
    rssiFloor: null,
  };
}

type Mutation = [string, (m: CountsMessage) => void];
const set = (path: string, value: unknown): Mutation => [
  `${path} = ${JSON.stringify(value)}`,
  (m) => {
    const keys = path.split('.');
    let o = m as unknown as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
    o[keys.at(-1)!] = value;
  },
];

const MUTATIONS: Mutation[] = [
  set('v', 2),
  set('sensorId', 'Sensor-1'),
  set('sensorId', '-s'),
  set('sensorId', 'a'.repeat(65)),
  set('sensorId', 'a'.repeat(64)),
  set('windowStart', 1_700_000_041),
  set('windowStart', -60),
  set('windowStart', 1_700_000_040.5),
  set('windowStart', 0),
  set('windowSeconds', 45),
  set('windowSeconds', 10),
  set('windowSeconds', 3600),
  set('seq', -1),
  set('seq', 1.5),
  set('seq', Number.MAX_SAFE_INTEGER),
  set('seq', Number.MAX_SAFE_INTEGER + 1),
  set('rssiFloor', -70),
  set('rssiFloor', -128),
  set('rssiFloor', 20),
  set('rssiFloor', 21),
  set('rssiFloor', -70.5),
  ...(['wifi', 'ble'] as const).flatMap((radio): Mutation[] => [
    set(`${radio}.devices`, -1),
    set(`${radio}.devices`, 0.5),
    set(`${radio}.frames`, MAX_COUNT),
    set(`${radio}.frames`, MAX_COUNT + 1),
    set(`${radio}.frames`, Number.NaN),
    set(`${radio}.randomized`, 99),
    set(`${radio}.devices`, 99),
    set(`${radio}.rssiHistogram`, undefined),
    set(`${radio}.rssiHistogram`, [0, 0, 0, 0, 0]),
    set(`${radio}.rssiHistogram`, [0, 0, 0, 0, 0, -1]),
    set(`${radio}.rssiHistogram`, [0, 0, 0, 0, 0, MAX_COUNT + 1]),
  ]),
];

describe('count: its message check agrees with the shared counts schema', () => {
  it('accepts a valid message, as the schema does', () => {
    expect(CountsMessageSchema.safeParse(valid()).success).toBe(true);
    expect(countsMessageProblem(valid())).toBeNull();
  });

  it.each(MUTATIONS)('%s: both accept or both refuse', (_name, mutate) => {
    const m = valid();
    mutate(m);
    const schemaOk = CountsMessageSchema.safeParse(m).success;
    expect(countsMessageProblem(m) === null).toBe(schemaOk);
  });

  it('the mutations break the message more often than not (the test is not vacuous)', () => {
    const refused = MUTATIONS.filter(([, mutate]) => {
      const m = valid();
      mutate(m);
      return !CountsMessageSchema.safeParse(m).success;
    });
    expect(refused.length).toBeGreaterThan(MUTATIONS.length / 2);
  });
});
