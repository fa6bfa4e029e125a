/**
 * `passant-sensor count` loads only what counting needs: in the bundle (`npm run build`), the chunks the count
 * command imports (statically, from the entry's `import()` of it) hold no zod, no MQTT client, no logger and no
 * SQLite. Built into a temp folder; the chunks' source maps say which files each one is made of.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The files a chunk imports statically (relative specifiers resolved) and the bare packages it imports. */
function staticImports(file: string): { files: string[]; packages: string[] } {
  const text = fs.readFileSync(file, 'utf8');
  const files: string[] = [];
  const packages: string[] = [];
  // Minified static imports: `import{...}from"./x.mjs"`, `import"./x.mjs"`; dynamic `import("...")` are not followed.
  for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*["']([^"']+)["']/g)) {
    const spec = m[1]!;
    if (spec.startsWith('.')) files.push(path.resolve(path.dirname(file), spec));
    else if (!spec.startsWith('node:')) packages.push(spec);
  }
  return { files, packages };
}

describe('count start-up', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-count-startup-'));
    execFileSync(process.execPath, [path.join(PKG, 'build.mjs'), '--outdir', dir], { cwd: PKG, stdio: 'ignore' });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the count command loads no zod, MQTT client, logger or SQLite', () => {
    const entry = fs.readFileSync(path.join(dir, 'passant-sensor.mjs'), 'utf8');
    const countChunk = /import\(\s*["'](\.\/chunks\/count-[^"']+\.mjs)["']\s*\)/.exec(entry)?.[1];
    expect(countChunk, 'the entry imports the count chunk on demand').toBeDefined();
    // Everything loaded when `count` runs: the entry, the count chunk and what they import statically.
    const loaded = new Set<string>();
    const packages = new Set<string>();
    const todo = [path.join(dir, 'passant-sensor.mjs'), path.join(dir, countChunk!)];
    while (todo.length > 0) {
      const f = todo.pop()!;
      if (loaded.has(f)) continue;
      loaded.add(f);
      const imp = staticImports(f);
      todo.push(...imp.files);
      for (const p of imp.packages) packages.add(p);
    }
    expect([...packages]).toEqual([]);
    const sources = [...loaded].flatMap((f) => (JSON.parse(fs.readFileSync(`${f}.map`, 'utf8')) as { sources: string[] }).sources);
    // The counting itself is there (the sanity of this test)...
    expect(sources.some((s) => s.endsWith('window-counter.ts'))).toBe(true);
    expect(sources.some((s) => s.endsWith('pcap-format.ts'))).toBe(true);
    // ...and none of what only the agent needs.
    const heavy = sources.filter((s) => /node_modules[\\/](zod|mqtt|mqtt-packet|pino|better-sqlite3|yaml)[\\/]|shared[\\/]src[\\/]messages\.ts$|[\\/]src[\\/](config|agent|log)\.ts$|mqtt-publisher|outbox/.test(s));
    expect(heavy).toEqual([]);
    // The agent's chunk is the one with them (so the check above looks at the right names).
    const all = fs.readdirSync(path.join(dir, 'chunks')).filter((f) => f.endsWith('.mjs.map'));
    const allSources = all.flatMap((f) => (JSON.parse(fs.readFileSync(path.join(dir, 'chunks', f), 'utf8')) as { sources: string[] }).sources);
    expect(allSources.some((s) => /node_modules[\\/]zod[\\/]/.test(s))).toBe(true);
    expect(allSources.some((s) => /node_modules[\\/]mqtt[\\/]/.test(s))).toBe(true);
  });
});
