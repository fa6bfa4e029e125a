/**
 * The project carries its own design: every Markdown document a source file, config or doc names (`docs/...md`,
 * `aggregator/docs/release-layer.md`, `README.md`, ...) is a file in this repository. A comment that cites a design
 * note kept elsewhere (as eleven files once cited a DESIGN.md that was never in the repository) fails here.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const SOURCE = /\.(ts|mts|js|mjs|cjs|sh|ya?ml|service|conf|md)$|(^|\/)(Dockerfile|acl|\.ci\/run)$/;
/** A Markdown file name as prose cites it: `docs/architecture.md`, `release-layer.md`, `README.md`. */
const CITED = /(?<![\w/.-])((?:\.{1,2}\/)*[\w-]+(?:\/[\w.-]+)*\.md)\b/g;

function tracked(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  return out.split('\n').filter((f) => f !== '' && SOURCE.test(f) && !f.startsWith('node_modules/') && !f.includes('/dist/'));
}

/** Every Markdown file in the repository, by its path and by its base name (prose often names only the file). */
function markdownFiles(files: string[]): { paths: Set<string>; names: Set<string> } {
  const md = files.filter((f) => f.endsWith('.md') && fs.existsSync(path.join(ROOT, f)));
  return { paths: new Set(md), names: new Set(md.map((f) => path.basename(f))) };
}

describe('design notes live in the repository', () => {
  it('every Markdown document a file names exists in the repository', () => {
    const files = tracked();
    const { paths, names } = markdownFiles(files);
    const missing: string[] = [];
    for (const file of files) {
      const full = path.join(ROOT, file);
      if (!fs.existsSync(full)) continue;
      const text = fs.readFileSync(full, 'utf8');
      if (file === 'test/design-links.test.ts') continue; // names a missing note on purpose
      for (const match of text.matchAll(CITED)) {
        const cited = match[1]!;
        // A document: a path (docs/x.md) or a capitalised note (README.md, DESIGN.md); lower-case bare names are
        // files a program writes (a report's nl.md, the kit's dpia.md).
        if (!cited.includes('/') && !/^[A-Z][A-Z0-9_-]*\.md$/.test(cited)) continue;
        const relative = path.normalize(path.join(path.dirname(file), cited));
        const normal = path.normalize(cited).replace(/^(\.\.\/)+/, '');
        const found =
          paths.has(relative) || paths.has(normal) || [...paths].some((p) => p.endsWith(`/${normal}`)) || (!cited.includes('/') && names.has(cited));
        if (!found) missing.push(`${file}: ${cited}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the architecture note is there and names the boundaries', () => {
    const text = fs.readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
    for (const heading of ['The flow', 'Where an address may live', 'The message contract', 'The aggregator', 'How to add']) {
      expect(text).toContain(heading);
    }
  });
});
