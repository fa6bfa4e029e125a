import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, requireTool, toolPath } from './helpers/tools.ts';

const savedCi = process.env.CI;
afterEach(() => {
  if (savedCi === undefined) delete process.env.CI;
  else process.env.CI = savedCi;
});

describe('test helpers: tools', () => {
  it('finds an installed tool, also in sbin', () => {
    expect(requireTool('sh', 'dash')).toBe(true);
    expect(toolPath('sh')).toMatch(/\/sh$/);
  });

  it('a missing tool skips locally and fails under CI=true, naming the Debian package', () => {
    delete process.env.CI;
    expect(requireTool('passant-no-such-tool', 'passant-pkg')).toBe(false);
    process.env.CI = 'true';
    expect(() => requireTool('passant-no-such-tool', 'passant-pkg')).toThrow(/passant-pkg/);
  });

  it('freePort gives a port that can be listened on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
