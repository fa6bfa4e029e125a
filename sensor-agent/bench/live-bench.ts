/**
 * Live-path benchmark of the sensor (`npm run bench:live`): what `passant-sensor run` costs on this machine while
 * a capture tool feeds it, the case a sensor on a small board lives in for years.
 *
 * The real agent (the bundle sensor-agent/dist/passant-sensor.mjs that bin/passant-sensor.js runs; built first) runs with source kind `wifi`,
 * its `source.command` replaying the Brno lab capture (real probe requests, radiotap) through a pipe at a fixed
 * rate (bench/replay-pcap.mjs, records stamped with the current time), and publishes to a real Mosquitto. For
 * each rate (0, 100, 1,000, 10,000 frames/s) it reports the agent's CPU time per second of wall time (the time
 * its threads ran, from /proc/PID/task/*\/schedstat, in nanoseconds, as a share of one core: the median of 5
 * equal parts of the measured time, with the lowest and highest, since on a machine shared with other work
 * one part can be charged far more than the others) and its resident memory (VmRSS from /proc/PID/statm,
 * sampled every 250 ms: mean and peak), read from outside, not the agent's own view. The replayer's own CPU is
 * not counted (in production tcpdump takes its place; the reference rows give what tcpdump costs).
 *
 * Frames lost: the replayer writes the same bytes to a file; `passant-sensor count` on that file gives the frames
 * the agent should have counted, and the sum of `wifi.frames` in the counts messages the agent published
 * (windows closed at shutdown) must equal it.
 *
 * Reference rows, same pipe and rates: `tcpdump -r - -w /dev/null` (what reading and writing the capture costs)
 * and a bare Node process that reads the pipe and drops the bytes (what a Node process costs by being there).
 * Last, `passant-sensor count` on a 128-frame file, 5 runs: the median CPU time (user + system, GNU time), the
 * median wall time and the peak RSS, the start-up cost. The goal is judged on the CPU time: the wall time of a
 * start on a machine shared with other work is mostly waiting for a core (a bare `node -e 1` took 0.3-1 s).
 *
 * Goals (this machine): idle < 0.2 % of a core, 1,000 frames/s < 1 %, 10,000 frames/s without losing a frame,
 * steady RSS < 60 MB, count on a small file < 0.25 s.
 *
 * Settings (environment): PASSANT_BENCH_LIVE_SECONDS (10: measured seconds per case; idle cases twice that),
 * PASSANT_BENCH_LIVE_WARMUP_SECONDS (30: the JIT has tiered up, and the start-up garbage, some 4 MB that V8's
 * memory reducer collects about 20 s after the start, is gone: with 8 s the RSS of a case depended on whether its
 * measured seconds came before or after that collection, 58-63 MB for the same build), PASSANT_BENCH_LIVE_NODE_OPTIONS (node flags of the agent; default
 * "--max-semi-space-size=1 --single-threaded --no-sparkplug", as in the systemd unit; "" for none), PASSANT_BENCH_LIVE_CPU_PROF (a folder: the agent runs with --cpu-prof into it),
 * PASSANT_BENCH_LIVE_RATES (comma-separated rates of the agent cases; when set, the reference rows are left out),
 * PASSANT_BENCH_LIVE_BUNDLE (the passant-sensor.mjs to measure instead of this checkout's: a build of an older
 * commit, e.g. `git worktree add /tmp/old <commit> && cd /tmp/old && npm ci && npm run build`, gives the before rows;
 * a copy of a dist folder works too if it is still called `dist` (the agent hashes the folder of that name it runs
 * from) and a node_modules is found above it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mqtt from 'mqtt';
import { startMosquitto } from '../../test/helpers/mosquitto.ts';
import { toolPath } from '../../test/helpers/tools.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The bundle measured: this checkout's, or (PASSANT_BENCH_LIVE_BUNDLE) one built from another commit, for a before/after. */
const BUNDLE = path.resolve(process.env.PASSANT_BENCH_LIVE_BUNDLE ?? path.join(HERE, '../dist/passant-sensor.mjs'));
/**
 * The command line of the bundle, as bin/passant-sensor.js runs it when it is current. Run directly here so that a
 * source file being edited while the bench runs does not switch the agent to the tsx path.
 */
const SENSOR = ['--input-type=module', '-e', `import { main } from ${JSON.stringify(pathToFileURL(BUNDLE).href)}; process.exitCode = await main(process.argv.slice(1));`];
const REPLAY = path.join(HERE, 'replay-pcap.mjs');
const CAPTURE = path.resolve(HERE, '../../../shared/captures/wifi_brno-lab_esp32_pos1_2022-10-19.pcap');
const RATES = (process.env.PASSANT_BENCH_LIVE_RATES ?? '0,100,1000,10000').split(',').map(Number);
const REFERENCE_RATES = process.env.PASSANT_BENCH_LIVE_RATES !== undefined ? [] : [0, 1000, 10_000];
const PAGE = 4096;
/** Parts of a measurement whose CPU shares give the median. */
const PARTS = 5;

function numEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return v;
}
const SECONDS = numEnv('PASSANT_BENCH_LIVE_SECONDS', 10);
const WARMUP = numEnv('PASSANT_BENCH_LIVE_WARMUP_SECONDS', 30);
/** Node flags of the agent: by default those of deploy/systemd/passant-sensor.service. */
const NODE_OPTIONS = (process.env.PASSANT_BENCH_LIVE_NODE_OPTIONS ?? '--max-semi-space-size=1 --single-threaded --no-sparkplug').split(/\s+/).filter(Boolean);
const CPU_PROF = process.env.PASSANT_BENCH_LIVE_CPU_PROF;

const line = (s = ''): void => void process.stdout.write(s + '\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * CPU seconds a process's threads have run so far (the first field of each thread's schedstat, in ns: finer than
 * the 10 ms ticks of /proc/PID/stat, which an idle agent stays below for seconds).
 */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return ns / 1e9;
}

function rssMb(pid: number): number {
  const statm = fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
  return (Number(statm[1]) * PAGE) / 1048576;
}

interface Measured {
  /** Median CPU share (%) of the parts, and the lowest and highest. */
  cpuPct: number;
  cpuMin: number;
  cpuMax: number;
  rssMean: number;
  rssPeak: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Measures `pid` for `seconds` in PARTS equal parts: CPU share of one core (median, lowest, highest), RSS mean and peak. */
async function measure(pid: number, seconds: number): Promise<Measured> {
  const shares: number[] = [];
  const rss: number[] = [];
  for (let part = 0; part < PARTS; part++) {
    const c0 = cpuSeconds(pid);
    const t0 = performance.now();
    const end = t0 + (seconds * 1000) / PARTS;
    while (performance.now() < end) {
      rss.push(rssMb(pid));
      await sleep(Math.min(250, Math.max(0, end - performance.now())));
    }
    shares.push(((cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000)) * 100);
  }
  rss.push(rssMb(pid));
  return { cpuPct: median(shares), cpuMin: Math.min(...shares), cpuMax: Math.max(...shares), rssMean: rss.reduce((a, b) => a + b, 0) / rss.length, rssPeak: Math.max(...rss) };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('close', () => resolve());
  });
}

async function stop(child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await done;
  clearTimeout(timer);
}

/** Frames `passant-sensor count` finds in a capture file (sum of wifi.frames over its windows). */
function countFrames(file: string): number {
  const r = spawnSync(process.execPath, [...SENSOR, 'count', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`count failed: ${r.stderr}`);
  let frames = 0;
  for (const l of r.stdout.split('\n')) if (l.trim() !== '') frames += (JSON.parse(l) as { wifi?: { frames: number } }).wifi?.frames ?? 0;
  return frames;
}

interface AgentResult extends Measured {
  expected: number;
  counted: number;
}

async function agentCase(url: string, rate: number, dir: string): Promise<AgentResult> {
  const sensorId = `bench-${rate}-${process.pid}`;
  const tee = path.join(dir, `replayed-${rate}.pcap`);
  const client = await mqtt.connectAsync(url, { clientId: `bench-sub-${sensorId}` });
  let counted = 0;
  let online!: () => void;
  const isOnline = new Promise<void>((r) => (online = r));
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/counts')) counted += (JSON.parse(payload.toString()) as { wifi?: { frames: number } }).wifi?.frames ?? 0;
    else if (payload.toString().includes('"online"')) online();
  });
  await client.subscribeAsync([`passant/sensors/${sensorId}/counts`, `passant/sensors/${sensorId}/status`], { qos: 1 });
  const flags = [...NODE_OPTIONS, ...(CPU_PROF !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=agent-${rate}.cpuprofile`] : [])];
  const agent = spawn(process.execPath, [...flags, ...SENSOR, 'run'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      PASSANT_SENSOR_ID: sensorId,
      PASSANT_MQTT_URL: url,
      PASSANT_SOURCE_KIND: 'wifi',
      PASSANT_SOURCE_COMMAND: [process.execPath, REPLAY, CAPTURE, String(rate), tee].join(','),
      PASSANT_OUTBOX_PATH: path.join(dir, `outbox-${rate}.sqlite`),
      PASSANT_LOG_LEVEL: 'info',
    },
  });
  const timeout = setTimeout(() => online(), 20_000);
  await isOnline;
  clearTimeout(timeout);
  await sleep(WARMUP * 1000);
  const m = await measure(agent.pid!, rate === 0 ? SECONDS * 2 : SECONDS);
  await stop(agent);
  // The windows closed at shutdown are published before the agent exits; give the subscriber a moment to get them.
  const expected = countFrames(tee);
  const deadline = Date.now() + 5000;
  while (counted < expected && Date.now() < deadline) await sleep(50);
  await client.endAsync();
  return { ...m, expected, counted };
}

/** A reference consumer (reading stdin) fed by the replayer through a pipe. */
async function referenceCase(command: string[], rate: number): Promise<Measured> {
  const consumer = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'ignore', 'ignore'] });
  const replayer = spawn(process.execPath, [REPLAY, CAPTURE, String(rate)], { stdio: ['ignore', consumer.stdin!, 'inherit'] });
  await sleep(Math.min(WARMUP, 2) * 1000);
  const m = await measure(consumer.pid!, rate === 0 ? SECONDS * 2 : SECONDS);
  await stop(replayer);
  await stop(consumer);
  return m;
}

/**
 * `passant-sensor count` on the first 128 records of the capture, 5 runs: the median CPU time (user + system), the
 * median wall time and the peak RSS. On a loaded machine the wall time is mostly waiting for a core.
 */
function countCase(dir: string): { wall: number; cpu: number; rss: number } {
  const data = fs.readFileSync(CAPTURE);
  let p = 24;
  for (let i = 0; i < 128; i++) p += 16 + data.readUInt32LE(p + 8);
  const small = path.join(dir, 'small.pcap');
  fs.writeFileSync(small, data.subarray(0, p));
  const runs: Array<{ wall: number; cpu: number; rss: number }> = [];
  for (let i = 0; i < 5; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, ...SENSOR, 'count', small], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`count failed: ${r.stderr}`);
    const [wall, user, sys, kb] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
    runs.push({ wall: wall!, cpu: user! + sys!, rss: kb! / 1024 });
  }
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), rss: Math.max(...runs.map((r) => r.rss)) };
}

const pct = (v: number): string => `${v.toFixed(2)} %`;
const cpu = (m: Measured): string => `${pct(m.cpuPct)} (${m.cpuMin.toFixed(2)}-${m.cpuMax.toFixed(2)})`;
const mb = (v: number): string => `${v.toFixed(0)} MB`;

async function main(): Promise<void> {
  for (const [tool, pkg] of [['mosquitto', 'mosquitto'], ['tcpdump', 'tcpdump']] as const) {
    if (toolPath(tool) === null) throw new Error(`${tool} is not installed (Debian package "${pkg}")`);
  }
  if (!fs.existsSync(CAPTURE)) throw new Error(`capture not found: ${CAPTURE}`);
  if (!fs.existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is not installed (Debian package "time")');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'passant-live-bench-'));
  const broker = await startMosquitto();
  if (!fs.existsSync(BUNDLE)) throw new Error('no sensor bundle: run `npm run build -w @passant/sensor-agent` first');
  line(`== sensor live path: ${path.basename(CAPTURE)} replayed through a pipe; ${SECONDS} s measured per case (idle ${SECONDS * 2} s) after ${WARMUP} s warm-up ==`);
  line(`agent: node ${[...NODE_OPTIONS, `${path.relative(process.cwd(), BUNDLE)} run`].join(' ')} (the bundle); ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);
  const rows: string[][] = [];
  const goals: Array<[string, boolean]> = [];
  let peakSteady = 0;
  try {
    for (const rate of RATES) {
      const r = await agentCase(broker.url, rate, dir);
      peakSteady = Math.max(peakSteady, r.rssMean);
      const lost = r.expected - r.counted;
      rows.push([`agent, ${rate.toLocaleString('en-US')} frames/s`, cpu(r), `${mb(r.rssMean)} (peak ${mb(r.rssPeak)})`, rate === 0 ? '' : `${r.counted} of ${r.expected}${lost === 0 ? '' : ` (${lost} LOST)`}`]);
      if (rate === 0) goals.push([`idle < 0.2 % of a core (${pct(r.cpuPct)})`, r.cpuPct < 0.2]);
      if (rate === 1000) goals.push([`1,000 frames/s < 1 % of a core (${pct(r.cpuPct)})`, r.cpuPct < 1]);
      if (rate === 10_000) goals.push([`10,000 frames/s without losing a frame (${r.counted} of ${r.expected})`, r.counted === r.expected && r.expected > 0]);
      line(`  ${rows.at(-1)!.join(' | ')}`);
    }
    if (RATES.length === 4) goals.push([`steady RSS < 60 MB (highest mean ${mb(peakSteady)})`, peakSteady < 60]);
    for (const rate of REFERENCE_RATES) {
      const t = await referenceCase(['tcpdump', '-r', '-', '-w', '/dev/null'], rate);
      rows.push([`reference: tcpdump -r - -w /dev/null, ${rate.toLocaleString('en-US')} frames/s`, cpu(t), `${mb(t.rssMean)} (peak ${mb(t.rssPeak)})`, '']);
      line(`  ${rows.at(-1)!.join(' | ')}`);
    }
    for (const rate of REFERENCE_RATES) {
      const t = await referenceCase([process.execPath, '-e', "process.stdin.on('data', () => {})"], rate);
      rows.push([`reference: bare node reading the pipe, ${rate.toLocaleString('en-US')} frames/s`, cpu(t), `${mb(t.rssMean)} (peak ${mb(t.rssPeak)})`, '']);
      line(`  ${rows.at(-1)!.join(' | ')}`);
    }
    const c = countCase(dir);
    rows.push(['`passant-sensor count` on a 128-frame file', `${c.cpu.toFixed(2)} s CPU, ${c.wall.toFixed(2)} s wall (medians of 5)`, `${mb(c.rss)} (peak)`, '']);
    goals.push([`count on a small file < 0.25 s of CPU (${c.cpu.toFixed(2)} s; wall ${c.wall.toFixed(2)} s)`, c.cpu < 0.25]);
  } finally {
    await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  line();
  line('| case | CPU (share of one core: median of 5 parts, lowest-highest) | RSS mean (peak) | frames counted / sent |');
  line('|---|---|---|---|');
  for (const r of rows) line(`| ${r.join(' | ')} |`);
  line();
  for (const [what, met] of goals) line(`${met ? 'MET    ' : 'NOT MET'}  ${what}`);
}

await main();
