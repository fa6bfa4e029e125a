/**
 * `passant-aggregator calibration ...`: send manual counts to a running aggregator, and list a zone's calibrations.
 * It talks to the API (the fit needs the zone's released minutes, whatever the store), with an admin token (list
 * also takes a privacy token) from PASSANT_TOKEN or --token-file FILE; never from the command line, where ps shows
 * it to every user of the machine (command-line.ts: --token is refused).
 *
 *   calibration add --zone ZONE --kind present|passers --file counts.csv|counts.json [--radio wifi|ble] [--tz ZONE] [--api URL] [--token-file FILE] [--json]
 *   calibration list --zone ZONE [--api URL] [--token-file FILE] [--json]
 *
 * counts.csv: a header with the columns from,to,people (any order, comma or semicolon), one count a line; times in
 * Unix seconds, or ISO local times ("2026-05-12 14:15", in --tz, default the machine's time zone), or ISO times with
 * an offset ("2026-05-12T14:15:00+02:00"). A present count at a moment may leave `to` empty. counts.json: the API's
 * body ({ "kind", "counts" }) or just the counts array.
 */
import fs from 'node:fs';
import { parseCommandLine, readSecrets, usageError, type CommandSpec } from '../command-line.ts';

export const CALIBRATION_USAGE = `usage:
  passant-aggregator calibration add --zone ZONE --kind present|passers --file counts.csv|counts.json [--radio wifi|ble] [--tz TIMEZONE] [--api URL] [--token-file FILE] [--json]
  passant-aggregator calibration list --zone ZONE [--api URL] [--token-file FILE] [--json]
  (the token: PASSANT_TOKEN or --token-file FILE, never on the command line; an admin token, list also takes a privacy token. --api: default http://127.0.0.1:8080)
  counts.csv: header from,to,people; times in Unix seconds or ISO local time ("2026-05-12 14:15", in --tz); to may be empty for a head count at a moment`;

const CALIBRATION_COMMAND: CommandSpec = {
  command: 'calibration',
  usage: CALIBRATION_USAGE,
  options: {
    zone: { type: 'string' },
    kind: { type: 'string' },
    file: { type: 'string' },
    radio: { type: 'string' },
    tz: { type: 'string' },
    api: { type: 'string' },
    json: { type: 'boolean' },
  },
  secrets: [{ name: 'token', env: 'PASSANT_TOKEN' }],
};

export interface Count {
  from: number;
  to: number;
  people: number;
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** Offset of `tz` from UTC at instant `ms`, in milliseconds. */
function offsetMs(tz: string, ms: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(ms / 1000) * 1000;
}

/** A time from the CSV: Unix seconds, an ISO time with an offset, or an ISO local time in `tz`. */
export function parseTime(text: string, tz: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const local = LOCAL_TIME.exec(s);
  if (local) {
    const [y, mo, d, h, mi, se] = local.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
    const wall = Date.UTC(y!, mo! - 1, d!, h!, mi!, se!);
    // The wall time's instant: subtract the zone's offset, found again at the result (daylight saving changes).
    let t = wall - offsetMs(tz, wall);
    t = wall - offsetMs(tz, t);
    return Math.floor(t / 1000);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(s)) return Math.floor(Date.parse(s) / 1000);
  throw new Error(`${JSON.stringify(s.slice(0, 40))} is not a time (Unix seconds, or ISO: 2026-05-12 14:15)`);
}

/** Counts from a CSV text (see the module comment); throws with the line number on a bad line. */
export function parseCountsCsv(text: string, tz: string): Count[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerLine = lines.findIndex((l) => l.trim() !== '');
  if (headerLine < 0) throw new Error('the CSV is empty');
  const sep = lines[headerLine]!.includes(';') ? ';' : ',';
  const header = lines[headerLine]!.split(sep).map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  for (const name of ['from', 'people']) if (col(name) < 0) throw new Error(`the CSV header must name the columns from,to,people (got ${JSON.stringify(header.join(sep).slice(0, 80))})`);
  const counts: Count[] = [];
  for (let i = headerLine + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = line.split(sep);
    try {
      const from = parseTime(cells[col('from')] ?? '', tz);
      const toText = col('to') >= 0 ? (cells[col('to')] ?? '').trim() : '';
      const to = toText === '' ? from : parseTime(toText, tz);
      const peopleText = (cells[col('people')] ?? '').trim();
      const people = Number(peopleText);
      if (peopleText === '' || !Number.isFinite(people)) throw new Error(`people ${JSON.stringify(peopleText.slice(0, 20))} is not a number`);
      counts.push({ from, to, people });
    } catch (err) {
      throw new Error(`line ${i + 1}: ${(err as Error).message}`);
    }
  }
  return counts;
}

/** Counts from a file: .json (the API body or the counts array) or CSV. */
export function readCountsFile(file: string, tz: string): Count[] {
  const text = fs.readFileSync(file, 'utf8');
  if (file.toLowerCase().endsWith('.json')) {
    const value: unknown = JSON.parse(text);
    const counts = Array.isArray(value) ? value : (value as { counts?: unknown }).counts;
    if (!Array.isArray(counts)) throw new Error('the JSON file must hold the counts array or { "counts": [...] }');
    return counts as Count[];
  }
  return parseCountsCsv(text, tz);
}

interface CalibrationBody {
  id: string;
  kind: string;
  radio: string;
  created: number;
  parameters: { a: number; residualSd: number; t: number };
  points: { given: number; used: number; minutesHidden: number };
  statistics: { r2: number | null; mae: number };
}

function describe(c: CalibrationBody): string {
  const r2 = c.statistics.r2 === null ? '-' : c.statistics.r2.toFixed(2);
  return (
    `${c.id}  ${c.kind} ${c.radio}  ${new Date(c.created * 1000).toISOString()}  a=${c.parameters.a.toPrecision(3)}` +
    `  +/-${(c.parameters.t * c.parameters.residualSd).toFixed(1)} people  counts used ${c.points.used} of ${c.points.given}` +
    ` (hidden minutes ${c.points.minutesHidden})  r2=${r2}  mae=${c.statistics.mae.toFixed(1)}`
  );
}

/**
 * Runs `calibration <sub> ...`; returns the exit code (0 ok, 1 failure or refusal, 2 usage). The output goes to
 * stdout, errors to stderr; the token comes from `env` (PASSANT_TOKEN) or --token-file.
 */
export async function calibrationCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === 'help') {
    process.stdout.write(`${CALIBRATION_USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  const fail = (message: string): number => usageError(CALIBRATION_COMMAND, message);
  const values = parseCommandLine(CALIBRATION_COMMAND, rest);
  if (typeof values === 'number') return values;
  const str = (k: string) => values[k] as string | undefined;
  if (sub !== 'add' && sub !== 'list') return fail('add or list?');
  const zone = str('zone');
  const file = str('file');
  if (zone === undefined || (sub === 'add' && (str('kind') === undefined || file === undefined))) return fail('missing --zone, --kind or --file');
  const secrets = readSecrets(CALIBRATION_COMMAND, values, env);
  if (typeof secrets === 'number') return secrets;
  const { token } = secrets;
  if (!token) return fail('no API token: set PASSANT_TOKEN or --token-file');
  const api = (str('api') ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const url = `${api}/api/v1/zones/${encodeURIComponent(zone)}/calibrations`;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let init: RequestInit = { headers };
  if (sub === 'add') {
    let counts: Count[];
    try {
      counts = readCountsFile(file!, str('tz') ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
    } catch (err) {
      process.stderr.write(`passant-aggregator calibration: ${file}: ${(err as Error).message}\n`);
      return 1;
    }
    const body: Record<string, unknown> = { kind: str('kind'), counts };
    if (str('radio') !== undefined) body.radio = str('radio');
    init = { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) };
  }
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    process.stderr.write(`passant-aggregator calibration: cannot reach ${api}: ${(err as Error).message}\n`);
    return 1;
  }
  const answer = (await res.json().catch(() => null)) as Record<string, any> | null;
  if (!res.ok) {
    process.stderr.write(`passant-aggregator calibration: ${res.status} ${answer?.detail ?? res.statusText}\n`);
    return 1;
  }
  if (values.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else if (sub === 'add') process.stdout.write(`${describe(answer as CalibrationBody)}\n`);
  else {
    const list = (answer?.calibrations ?? []) as CalibrationBody[];
    process.stdout.write(list.length === 0 ? `no calibrations for zone ${zone}\n` : `${list.map(describe).join('\n')}\n`);
  }
  return 0;
}
