/**
 * The README's generated blocks (configuration of both programs, HTTP routes) equal what the schemas and the
 * route list say now: `npm run docs` rewrites them. Also the promises the README makes about commands.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, renderReadme } from '../scripts/docs.ts';

const readme = fs.readFileSync(README, 'utf8');
const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };

describe('README', () => {
  it('has up-to-date generated tables (run `npm run docs` after changing a schema or a route)', () => {
    expect(readme).toBe(renderReadme(readme));
  });

  it('documents every environment variable of both programs', async () => {
    const { configReference } = await import('@passant/aggregator');
    const { sensorConfigKeys } = await import('@passant/sensor-agent');
    for (const row of configReference()) if (row.env) expect(readme).toContain(`\`${row.env}\``);
    for (const key of sensorConfigKeys()) expect(readme).toContain(`\`${key.env}\``);
  });

  it('names the two commands, and CI runs exactly the README test command', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toMatch(/^npm test\b/m);
    expect(pkg.scripts.start).toBeDefined();
    expect(pkg.scripts.test).toBeDefined();
    const ci = fs.readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');
    expect(ci).toMatch(/^npm test$/m);
  });
});
