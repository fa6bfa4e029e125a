/**
 * The Dutch government's API Design Rules: the OpenAPI document a running aggregator serves passes the government's
 * own linter (Spectral with the ADR ruleset, copied into test/fixtures with its source and licence) with no error
 * and no warning, as a municipality would run it before the API goes into its landscape. The contact comes from
 * transparency.controller: without it the linter rightly says who to contact is missing.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '@passant/test-helpers/aedes-broker';
import { removeDir, startTestAggregator, type TestAggregator } from '../helpers/aggregator.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const RULESET = path.join(here, '../fixtures/nl-api-design-rules.spectral.yaml');
const SPECTRAL = path.join(here, '../../../node_modules/.bin/spectral');

interface Finding {
  code: string;
  message: string;
  path: string[];
  severity: number;
}

let broker: TestBroker;
let agg: TestAggregator;

/** Spectral's findings on `doc` (0 error, 1 warning, 2 information, 3 hint). */
async function lint(doc: unknown, name: string): Promise<Finding[]> {
  const file = path.join(agg.dataDir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(doc));
  // Exit code 1 means findings; the JSON on stdout says which.
  const out = await promisify(execFile)(SPECTRAL, ['lint', '-r', RULESET, file, '-f', 'json', '-q'], { maxBuffer: 64 << 20 }).catch(
    (err: { stdout?: string; code?: number }) => {
      if (err.code === 1 && err.stdout !== undefined) return { stdout: err.stdout };
      throw err;
    },
  );
  return JSON.parse(out.stdout) as Finding[];
}

const brief = (findings: Finding[]) => findings.map((f) => `${f.code} at ${f.path.join('.')}: ${f.message}`);

beforeAll(async () => {
  broker = await startAedes();
  agg = await startTestAggregator(broker.url, {
    aggregator: { id: 'adr-lint' },
    zones: [{ id: 'front', name: 'Front', sensors: ['s1'] }],
    transparency: { controller: { name: 'Gemeente Voorbeeld', email: 'privacy@voorbeeld.nl', website: 'https://www.voorbeeld.nl' } },
  });
});

afterAll(async () => {
  await agg?.close();
  if (agg) removeDir(agg.dataDir);
  await broker?.close();
});

describe('the API Design Rules linter', () => {
  it('finds nothing in the served OpenAPI document: no error, no warning', { timeout: 60_000 }, async () => {
    const res = await fetch(`${agg.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { info: { contact: unknown } };
    expect(doc.info.contact).toEqual({ name: 'Gemeente Voorbeeld', email: 'privacy@voorbeeld.nl', url: 'https://www.voorbeeld.nl' });
    expect(brief(await lint(doc, 'openapi'))).toEqual([]);
  });

  it('says so when the document breaks a rule (the linter and ruleset really run)', { timeout: 60_000 }, async () => {
    const doc = (await (await fetch(`${agg.url}/api/v1/openapi.json`)).json()) as {
      info: { contact?: unknown };
      servers: { url: string }[];
      paths: Record<string, Record<string, { responses: Record<string, { headers?: unknown; content?: Record<string, unknown> }> }>>;
    };
    delete doc.info.contact;
    doc.servers = [{ url: '/' }];
    const series = doc.paths['/zones/{id}/series']!.get!.responses;
    delete series['200']!.headers;
    series['400']!.content = { 'application/json': series['400']!.content!['application/problem+json'] };
    const codes = new Set((await lint(doc, 'broken')).filter((f) => f.severity === 0).map((f) => f.code));
    expect([...codes].sort()).toEqual(['info-contact', 'nlgov:include-major-version-in-uri', 'nlgov:missing-header', 'nlgov:use-problem-schema']);
  });
});
