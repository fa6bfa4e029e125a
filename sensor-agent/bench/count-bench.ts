/**
 * Benchmark of the sensor's counting core (`npm run bench -w @passant/sensor-agent`).
 *
 * 1. Keyed-hash choices for the per-window pseudonym (HMAC-SHA256 vs SipHash-2-4) and pseudonym-set choices
 *    (Set<number> vs the typed-array table): the figures behind pipeline/keyed-hash.ts and pseudonym-set.ts.
 * 2. A capture of >= 2 million probe requests (the Brno lab capture repeated with shifted timestamps, written to
 *    the temp folder): `passant-sensor count` (the real program) against tshark doing the same count
 *    (`tshark -Y 'wlan.fc.type_subtype == 4' -T fields -e frame.time_epoch -e wlan.sa` into a distinct count per
 *    minute), with throughput, peak RSS and whether both agree.
 * 3. 100,000 distinct devices in one window: peak RSS.
 *
 * Goals: >= 10x faster than tshark, >= 1 M probe requests/s end to end, < 100 MB peak RSS with 100k devices.
 * Reference machine: 2 cores (shared), Node 20. Wall times on a busy machine vary; CPU times are printed too.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KeyedHash } from '../src/pipeline/keyed-hash.ts';
import { PseudonymSet } from '../src/pipeline/pseudonym-set.ts';
import { LINKTYPE, pcapBytes, radiotapProbeRequest } from '../test/helpers/pcap-writer.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(HERE, '../bin/passant-sensor.js');
const SOURCE = path.resolve(HERE, '../../../shared/captures/wifi_brno-lab_esp32_pos1_2022-10-19.pcap');
const TARGET_PROBES = 2_000_000;

const fmt = (n: number, d = 2): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const line = (s = ''): void => void process.stdout.write(s + '\n');

// ------------------------------------------------------------------------------------------- 1. micro-benchmarks

function microBench(): void {
  line('== keyed hash over a 6-byte address (one fresh 128-bit key) ==');
  const n = 1_000_000;
  const addrs = randomBytes(6 * 4096);
  const key = randomBytes(16);
  let t = performance.now();
  let sink = 0;
  for (let i = 0; i < n / 4; i++) {
    const off = (i & 4095) * 6;
    sink ^= createHmac('sha256', key).update(addrs.subarray(off, off + 6)).digest().readUInt32LE(0);
  }
  const hmacRate = n / 4 / (performance.now() - t) / 1000;
  const h = new KeyedHash();
  t = performance.now();
  for (let i = 0; i < n * 5; i++) sink ^= h.hash6(addrs, (i & 4095) * 6) ^ h.hi;
  const sipRate = (n * 5) / (performance.now() - t) / 1000;
  line(`HMAC-SHA256 (node:crypto)   ${fmt(hmacRate)} M/s`);
  line(`SipHash-2-4 (TypeScript)    ${fmt(sipRate)} M/s   (${fmt(sipRate / hmacRate, 1)}x)  <- used: keyed PRF, 128-bit key, 64-bit output`);

  line('== distinct-pseudonym set, 100,000 distinct + 900,000 repeated adds ==');
  const his = new Uint32Array(100_000).map(() => (Math.random() * 2 ** 32) >>> 0);
  const los = new Uint32Array(100_000).map(() => (Math.random() * 2 ** 32) >>> 0);
  t = performance.now();
  const table = new PseudonymSet();
  for (let i = 0; i < 1_000_000; i++) table.add(his[i % 100_000]!, los[i % 100_000]!, false);
  const tableMs = performance.now() - t;
  t = performance.now();
  const set = new Set<number>();
  for (let i = 0; i < 1_000_000; i++) set.add((his[i % 100_000]! & 0x1fffff) * 2 ** 32 + los[i % 100_000]!);
  const setMs = performance.now() - t;
  line(`typed-array table (64 bit)  ${fmt(1000 / tableMs)} M adds/s, ${fmt((table.capacity * 9) / 1048576)} MB   <- used`);
  line(`Set<number> (53 bit)        ${fmt(1000 / setMs)} M adds/s, about ${fmt((set.size * 40) / 1048576)} MB`);
  if (sink === 0.5) line(); // keeps the loops from being optimised away
}

// ------------------------------------------------------------------------------------------- 2. big capture

interface PcapRecord {
  sec: number;
  bytes: Buffer;
}

function readPcap(file: string): { header: Buffer; records: PcapRecord[] } {
  const src = fs.readFileSync(file);
  const records: PcapRecord[] = [];
  let p = 24;
  while (p + 16 <= src.length) {
    const incl = src.readUInt32LE(p + 8);
    if (p + 16 + incl > src.length) break;
    records.push({ sec: src.readUInt32LE(p), bytes: src.subarray(p, p + 16 + incl) });
    p += 16 + incl;
  }
  return { header: src.subarray(0, 24), records };
}

/** Repeats the source capture, each copy shifted by its span (rounded to whole minutes), until >= target probes. */
function buildBigCapture(file: string, probesPerCopy: number): { copies: number; records: number } {
  const { header, records } = readPcap(SOURCE);
  const first = records[0]!.sec;
  const last = records.at(-1)!.sec;
  const span = (Math.ceil((last - first + 1) / 60) + 1) * 60;
  const copies = Math.ceil(TARGET_PROBES / probesPerCopy);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, header);
    const copy = Buffer.concat(records.map((r) => r.bytes));
    for (let c = 0; c < copies; c++) {
      let q = 0;
      for (const r of records) {
        copy.writeUInt32LE(r.sec + c * span, q);
        q += r.bytes.length;
      }
      fs.writeSync(fd, copy);
    }
  } finally {
    fs.closeSync(fd);
  }
  return { copies, records: copies * records.length };
}

interface Timed {
  wallS: number;
  cpuS: number | null;
  maxRssMb: number | null;
  stdoutLines: number;
  stderr: string;
}

/** Runs a command under /usr/bin/time (when present) for CPU time and peak RSS; counts stdout lines. */
async function timed(cmd: string, args: string[], onLine?: (l: string) => void): Promise<Timed> {
  const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  const report = path.join(os.tmpdir(), `passant-bench-time-${process.pid}.txt`);
  const [prog, argv] = timeBin !== null ? [timeBin, ['-o', report, '-f', '%M %U %S', cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const child = spawn(prog, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let stdoutLines = 0;
  const rl = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  rl.on('line', (l) => {
    stdoutLines++;
    onLine?.(l);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallS = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${cmd} exited with ${code}: ${stderr.slice(-500)}`);
  let cpuS: number | null = null;
  let maxRssMb: number | null = null;
  if (timeBin !== null) {
    const [rssKb, user, sys] = fs.readFileSync(report, 'utf8').trim().split(/\s+/).slice(-3).map(Number);
    fs.rmSync(report, { force: true });
    maxRssMb = rssKb! / 1024;
    cpuS = user! + sys!;
  }
  return { wallS, cpuS, maxRssMb, stdoutLines, stderr };
}

type MinuteCounts = Map<number, { devices: number; frames: number }>;

async function runAgent(file: string): Promise<{ t: Timed; minutes: MinuteCounts }> {
  const minutes: MinuteCounts = new Map();
  const t = await timed(process.execPath, [BIN, 'count', file], (l) => {
    const m = JSON.parse(l) as { windowStart: number; wifi: { devices: number; frames: number } };
    if (m.wifi.frames > 0) minutes.set(m.windowStart, { devices: m.wifi.devices, frames: m.wifi.frames });
  });
  return { t, minutes };
}

async function runTshark(file: string): Promise<{ t: Timed; minutes: MinuteCounts }> {
  const sets = new Map<number, Set<string>>();
  const frames = new Map<number, number>();
  const t = await timed('tshark', ['-r', file, '-Y', 'wlan.fc.type_subtype == 4', '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'wlan.sa'], (l) => {
    const [time, sa] = l.split('\t');
    if (sa === undefined || sa === '' || (parseInt(sa.slice(0, 2), 16) & 1) === 1) return; // the group bit: not a device
    const minute = Math.floor(Number(time) / 60) * 60;
    let s = sets.get(minute);
    if (s === undefined) sets.set(minute, (s = new Set()));
    s.add(sa);
    frames.set(minute, (frames.get(minute) ?? 0) + 1);
  });
  const minutes: MinuteCounts = new Map();
  for (const [m, s] of sets) minutes.set(m, { devices: s.size, frames: frames.get(m)! });
  return { t, minutes };
}

function agree(a: MinuteCounts, b: MinuteCounts): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || w.devices !== v.devices || w.frames !== v.frames) return false;
  }
  return true;
}

const cpuNote = (t: Timed): string => (t.cpuS !== null ? `, cpu ${fmt(t.cpuS)} s` : '');
const rssNote = (t: Timed): string => (t.maxRssMb !== null ? `, peak RSS ${fmt(t.maxRssMb, 1)} MB` : '');

async function bigCaptureBench(dir: string): Promise<void> {
  line();
  line('== passant-sensor count vs tshark on >= 2 M probe requests ==');
  if (!fs.existsSync(SOURCE)) {
    line(`skipped: ${SOURCE} is absent (the shared captures folder)`);
    return;
  }
  // Probe requests per copy, counted the same way the agent does (one small run).
  const probe = await runAgent(SOURCE);
  const probesPerCopy = [...probe.minutes.values()].reduce((n, m) => n + m.frames, 0);
  const file = path.join(dir, 'probes-2m.pcap');
  const built = buildBigCapture(file, probesPerCopy);
  const probes = built.copies * probesPerCopy;
  line(`capture: ${file}, ${fmt(fs.statSync(file).size / 1048576, 0)} MB, ${built.records.toLocaleString('en-US')} records, ${probes.toLocaleString('en-US')} probe requests (${built.copies} shifted copies of ${path.basename(SOURCE)})`);

  const agent = await runAgent(file);
  const agentRate = probes / agent.t.wallS / 1e6;
  line(`passant-sensor count: ${fmt(agent.t.wallS)} s wall${cpuNote(agent.t)}${rssNote(agent.t)}, ${fmt(agentRate)} M probe requests/s, ${agent.t.stdoutLines.toLocaleString('en-US')} windows`);

  const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
  let ratio: number | null = null;
  if (!hasTshark) {
    line('tshark: not installed (Debian package "tshark"): comparison skipped');
  } else {
    const tshark = await runTshark(file);
    ratio = tshark.t.wallS / agent.t.wallS;
    line(`tshark + distinct count: ${fmt(tshark.t.wallS)} s wall${cpuNote(tshark.t)}${rssNote(tshark.t)}, ${fmt(probes / tshark.t.wallS / 1e6)} M probe requests/s`);
    const cpuRatio = tshark.t.cpuS !== null && agent.t.cpuS !== null ? ` (cpu time ${fmt(tshark.t.cpuS / agent.t.cpuS, 1)}x)` : '';
    line(`ratio: passant-sensor is ${fmt(ratio, 1)}x faster than tshark${cpuRatio}`);
    line(`same counts as tshark in every minute (devices, frames): ${agree(agent.minutes, tshark.minutes) ? 'yes' : 'NO'}`);
  }
  line(`goal >= 1 M probe requests/s end to end: ${agentRate >= 1 ? 'met' : 'NOT met'} (${fmt(agentRate)} M/s)`);
  if (ratio !== null) line(`goal >= 10x faster than tshark: ${ratio >= 10 ? 'met' : 'NOT met'} (${fmt(ratio, 1)}x)`);
  fs.rmSync(file, { force: true });
}

async function crowdBench(dir: string): Promise<void> {
  line();
  line('== 100,000 distinct devices in one window ==');
  const t0 = Date.UTC(2024, 0, 1, 12, 0, 0);
  const n = 100_000;
  const frames = [];
  for (let i = 0; i < n; i++) {
    const src = ['02', ((i >> 16) & 0xff).toString(16), ((i >> 8) & 0xff).toString(16), (i & 0xff).toString(16), '00', '01'].join(':');
    frames.push({ timeMs: t0 + (i * 59_000) / n, data: radiotapProbeRequest({ src, rssi: -60 }) });
  }
  const file = path.join(dir, 'crowd.pcap');
  fs.writeFileSync(file, pcapBytes(frames, { linkType: LINKTYPE.RADIOTAP }));
  const run = await runAgent(file);
  const w = [...run.minutes.values()][0];
  line(`passant-sensor count: ${fmt(run.t.wallS)} s wall${cpuNote(run.t)}${rssNote(run.t)}; counted ${w?.devices.toLocaleString('en-US')} devices in ${run.minutes.size} window`);
  if (run.t.maxRssMb !== null) line(`goal < 100 MB peak RSS: ${run.t.maxRssMb < 100 ? 'met' : 'NOT met'} (${fmt(run.t.maxRssMb, 1)} MB)`);
  fs.rmSync(file, { force: true });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-bench-'));
try {
  microBench();
  await bigCaptureBench(dir);
  await crowdBench(dir);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
