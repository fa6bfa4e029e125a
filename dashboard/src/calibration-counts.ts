/**
 * Manual counts as an admin pastes or picks them, read into the body of `POST /api/v1/zones/{id}/calibrations`
 * (pure, no DOM). Accepted:
 *  - JSON: the request body itself (`{ "kind", "counts": [...], "radio"? }`) or just the list of counts;
 *  - CSV: one count a line, `from,to,people` (comma, or semicolon or tab with a decimal comma; a header line is skipped; `to` may be empty
 *    for a head count at a moment), the times as Unix seconds or as ISO 8601 date-times (`2026-05-02T14:15`, local
 *    time of the browser unless the text gives an offset or Z).
 * The server checks everything again; this only turns text into counts and says clearly what it cannot read.
 */

export interface ManualCount {
  from: number;
  to: number;
  people: number;
}

export type CountsParse =
  | { ok: true; counts: ManualCount[]; kind?: 'present' | 'passers'; radio?: 'wifi' | 'ble' }
  | { ok: false; problem: 'empty' | 'json' | 'line' | 'tooMany'; line?: number };

/** Most lines read (the server takes at most 2000 counts). */
export const MAX_LINES = 2000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A time as Unix seconds: an integer of seconds (a 13-digit one is taken as milliseconds) or an ISO 8601 date-time. */
export function parseTime(raw: string): number | null {
  const s = raw.trim().replace(/^"|"$/g, '');
  if (/^\d{9,10}$/.test(s)) return Number(s);
  if (/^\d{13}$/.test(s)) return Math.floor(Number(s) / 1000);
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(s)) return null;
  const ms = Date.parse(s.replace(' ', 'T'));
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

function parsePeople(raw: string): number | null {
  const s = raw.trim().replace(/^"|"$/g, '').replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(s)) return null;
  return Number(s);
}

function fromJson(value: unknown): CountsParse {
  const list = Array.isArray(value) ? value : isRecord(value) && Array.isArray(value.counts) ? value.counts : null;
  if (list === null) return { ok: false, problem: 'json' };
  if (list.length === 0) return { ok: false, problem: 'empty' };
  if (list.length > MAX_LINES) return { ok: false, problem: 'tooMany' };
  const counts: ManualCount[] = [];
  for (const [i, c] of list.entries()) {
    if (!isRecord(c)) return { ok: false, problem: 'line', line: i + 1 };
    const from = typeof c.from === 'string' ? parseTime(c.from) : c.from;
    const to = c.to === undefined || c.to === null ? from : typeof c.to === 'string' ? parseTime(c.to) : c.to;
    const people = c.people;
    if (typeof from !== 'number' || typeof to !== 'number' || typeof people !== 'number') return { ok: false, problem: 'line', line: i + 1 };
    counts.push({ from, to, people });
  }
  const out: CountsParse = { ok: true, counts };
  if (isRecord(value) && (value.kind === 'present' || value.kind === 'passers')) out.kind = value.kind;
  if (isRecord(value) && (value.radio === 'wifi' || value.radio === 'ble')) out.radio = value.radio;
  return out;
}

/** The counts in `text` (JSON or CSV), or what is wrong with it (`line`: the 1-based line or count). */
export function parseCounts(text: string): CountsParse {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, problem: 'empty' };
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return fromJson(JSON.parse(trimmed));
    } catch {
      return { ok: false, problem: 'json' };
    }
  }
  const lines = trimmed.split(/\r?\n/);
  if (lines.length > MAX_LINES + 1) return { ok: false, problem: 'tooMany' };
  const counts: ManualCount[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    // A semicolon or a tab separates when the line has one (a Dutch spreadsheet: `7,5` is seven and a half).
    const cells = line.split(line.includes('\t') ? '\t' : line.includes(';') ? ';' : ',');
    if (cells.length < 2) return { ok: false, problem: 'line', line: i + 1 };
    const from = parseTime(cells[0]!);
    const hasTo = cells.length >= 3;
    const to = hasTo ? (cells[1]!.trim() === '' ? from : parseTime(cells[1]!)) : from;
    const people = parsePeople(cells[hasTo ? 2 : 1]!);
    if (from === null || to === null || people === null) {
      if (counts.length === 0 && i === 0 && /[a-z]/i.test(line)) continue; // a header line
      return { ok: false, problem: 'line', line: i + 1 };
    }
    counts.push({ from, to, people });
  }
  return counts.length === 0 ? { ok: false, problem: 'empty' } : { ok: true, counts };
}
