/** One lifecycle: parts stop in reverse order, each within its limit; a failed start stops what already ran. */
import { describe, expect, it } from 'vitest';
import { Services } from '../src/service.ts';

function recorder(timeoutMs = 200) {
  const stopped: string[] = [];
  const failed: [string, string][] = [];
  const services = new Services({ timeoutMs, onStopFailed: (name, err) => failed.push([name, (err as Error).message]) });
  return { services, stopped, failed };
}

describe('Services', () => {
  it('stops every part, the last added first, once', async () => {
    const { services, stopped } = recorder();
    for (const name of ['store', 'tokens', 'ingest', 'http']) services.add(name, () => void stopped.push(name));
    expect(services.names()).toEqual(['http', 'ingest', 'tokens', 'store']);
    await Promise.all([services.stop(), services.stop()]);
    expect(stopped).toEqual(['http', 'ingest', 'tokens', 'store']);
    await services.stop();
    expect(stopped).toHaveLength(4);
    expect(() => services.add('late', () => undefined)).toThrow(/stopping/);
  });

  it('a part that fails or hangs is reported and the others still stop', async () => {
    const { services, stopped, failed } = recorder(50);
    services.add('store', () => void stopped.push('store'));
    services.add('hangs', () => new Promise<void>(() => undefined));
    services.add('throws', () => {
      throw new Error('boom');
    });
    services.add('http', async () => void stopped.push('http'));
    await services.stop();
    expect(stopped).toEqual(['http', 'store']);
    expect(failed).toEqual([
      ['throws', 'boom'],
      ['hangs', 'hangs took longer than 50 ms'],
    ]);
  });

  it('a failed start stops what was already running and throws the start error', async () => {
    const { services, stopped } = recorder();
    await expect(
      services.starting(async () => {
        services.add('store', () => void stopped.push('store'));
        services.add('tokens', () => void stopped.push('tokens'));
        throw new Error('cannot listen on 127.0.0.1:8080');
      }),
    ).rejects.toThrow('cannot listen');
    expect(stopped).toEqual(['tokens', 'store']);
  });
});
