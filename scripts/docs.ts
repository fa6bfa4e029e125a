/**
 * Generated parts of the README: the configuration tables of both programs, made from their zod schemas, and the
 * HTTP routes, made from the OpenAPI route list, so the README cannot drift from what the programs accept. `npm run docs` rewrites them; `test/readme.test.ts` fails
 * when the README is not up to date.
 *
 * A generated block sits between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiRoutesMarkdown, configMarkdownTable } from '@passant/aggregator';
import { EXTRA_ENV, sensorConfigKeys } from '@passant/sensor-agent';

export const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../README.md');

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function sensorTable(): string {
  const lines = ['| key | environment | default | description |', '| --- | --- | --- | --- |'];
  for (const k of sensorConfigKeys()) {
    const def = k.path === 'sensorId' ? 'required' : k.default === undefined ? 'unset' : `\`${JSON.stringify(k.default)}\``;
    const values = k.values ? ` (${k.values.join(', ')})` : '';
    lines.push(`| \`${k.path}\` | \`${k.env}\` | ${esc(def)} | ${esc(k.description + values)} |`);
  }
  for (const [env, description] of Object.entries(EXTRA_ENV)) lines.push(`| — | \`${env}\` | unset | ${esc(description)} |`);
  return lines.join('\n');
}

export function generatedBlocks(): Record<string, string> {
  return { 'aggregator-config': configMarkdownTable(), 'sensor-config': sensorTable(), 'api-routes': apiRoutesMarkdown() };
}

/** The README with every generated block replaced by its current text. */
export function renderReadme(text: string): string {
  let out = text;
  for (const [name, body] of Object.entries(generatedBlocks())) {
    const re = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!re.test(out)) throw new Error(`README.md has no block <!-- generated:${name} -->`);
    out = out.replace(re, (_m, open: string, close: string) => `${open}\n${body}\n${close}`);
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const before = fs.readFileSync(README, 'utf8');
  const after = renderReadme(before);
  if (after !== before) fs.writeFileSync(README, after);
  process.stdout.write(after === before ? 'README.md is up to date\n' : 'README.md: generated blocks rewritten\n');
}
