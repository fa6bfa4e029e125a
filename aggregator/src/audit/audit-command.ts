/**
 * `passant-aggregator audit`: the command line of the privacy officer's audit (audit.ts). Secrets never go on
 * the command line: the MQTT password from PASSANT_AUDIT_MQTT_PASSWORD or --mqtt-password-file, the API token
 * from PASSANT_AUDIT_TOKEN or --token-file. Exit code 0 when every check passes, 1 when any fails, 2 on a usage
 * error.
 */
import fs from 'node:fs';
import { parseCommandLine, readError, readSecrets, usageError, type CommandSpec } from '../command-line.ts';
import { loadConfig, type AggregatorConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { buildDirSha256, runAudit } from './audit.ts';
import { writeReports } from './report.ts';

export const AUDIT_USAGE = `usage: passant-aggregator audit --mqtt-url URL --api URL [options]
  --mqtt-url URL            the broker (mqtt:// or mqtts://)
  --mqtt-username NAME      the read-only login (default privacy-officer); password from
                            PASSANT_AUDIT_MQTT_PASSWORD or --mqtt-password-file FILE
  --ca-file FILE            CA of the broker's certificate (mqtts://)
  --api URL                 the aggregator's HTTP API; a privacy token from PASSANT_AUDIT_TOKEN or --token-file FILE
  --config FILE             the aggregator configuration the transparency kit was made from (settings check)
  --listen SECONDS          how long to listen to the sensors (default 120)
  --hours N                 period of the release check: the last N settled hours (default 3)
  --from T --to T           or the period as Unix seconds (minute-aligned)
  --build-hash SHA256       a trusted sensor build (repeatable)
  --builds-file FILE        trusted builds, one SHA-256 a line (# comments)
  --build-dir DIR           a sensor build made here from source (npm run build: sensor-agent/dist): its SHA-256 is trusted
  --out DIR                 where the dated reports go (default .)`;

const HEX64 = /^[0-9a-f]{64}$/;

const AUDIT_COMMAND: CommandSpec = {
  command: 'audit',
  usage: AUDIT_USAGE,
  options: {
    'mqtt-url': { type: 'string' },
    'mqtt-username': { type: 'string', default: 'privacy-officer' },
    'ca-file': { type: 'string' },
    api: { type: 'string' },
    config: { type: 'string' },
    listen: { type: 'string', default: '120' },
    hours: { type: 'string', default: '3' },
    from: { type: 'string' },
    to: { type: 'string' },
    'build-hash': { type: 'string', multiple: true },
    'builds-file': { type: 'string' },
    'build-dir': { type: 'string' },
    out: { type: 'string', default: '.' },
  },
  secrets: [
    { name: 'mqtt-password', env: 'PASSANT_AUDIT_MQTT_PASSWORD' },
    { name: 'token', env: 'PASSANT_AUDIT_TOKEN' },
  ],
};

const fail = (message: string): number => usageError(AUDIT_COMMAND, message);

export async function auditCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const values = parseCommandLine(AUDIT_COMMAND, args);
  if (typeof values === 'number') return values;
  const str = (k: string) => values[k] as string | undefined;
  const mqttUrl = str('mqtt-url');
  const apiUrl = str('api')?.replace(/\/+$/, '');
  if (!mqttUrl || !apiUrl) return fail('--mqtt-url and --api are required');
  const secrets = readSecrets(AUDIT_COMMAND, values, env);
  if (typeof secrets === 'number') return secrets;
  const { 'mqtt-password': password, token } = secrets;
  if (!token) return fail('no API token: set PASSANT_AUDIT_TOKEN or --token-file');

  let config: AggregatorConfig | null = null;
  if (str('config')) {
    try {
      config = loadConfig({ configFile: str('config')!, env: {} });
    } catch (err) {
      if (err instanceof ConfigError) return fail(err.message);
      throw err;
    }
  }

  const listenSeconds = Number(str('listen'));
  const hours = Number(str('hours'));
  if (!Number.isFinite(listenSeconds) || listenSeconds < 1 || listenSeconds > 86_400) return fail('--listen must be 1..86400 seconds');
  let from: number;
  let to: number;
  if (str('from') !== undefined || str('to') !== undefined) {
    from = Number(str('from'));
    to = Number(str('to'));
    if (!Number.isInteger(from) || !Number.isInteger(to) || from % 60 !== 0 || to % 60 !== 0 || to <= from) {
      return fail('--from and --to must be minute-aligned Unix seconds, from < to');
    }
  } else {
    if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 7) return fail('--hours must be 1..168');
    const settle = config?.settleSeconds ?? 120;
    to = Math.floor((Date.now() / 1000 - settle - 60) / 3600) * 3600;
    from = to - hours * 3600;
  }

  const trusted = new Set<string>();
  for (const h of (values['build-hash'] as string[] | undefined) ?? []) {
    if (!HEX64.test(h.toLowerCase())) return fail(`--build-hash ${JSON.stringify(h)} is not a SHA-256 (64 hex digits)`);
    trusted.add(h.toLowerCase());
  }
  try {
    if (str('builds-file')) {
      for (const line of fs.readFileSync(str('builds-file')!, 'utf8').split('\n')) {
        const h = line.replace(/#.*/, '').trim().toLowerCase();
        if (h === '') continue;
        if (!HEX64.test(h)) return fail(`${str('builds-file')}: ${JSON.stringify(h.slice(0, 80))} is not a SHA-256`);
        trusted.add(h);
      }
    }
    if (str('build-dir')) trusted.add(buildDirSha256(str('build-dir')!));
  } catch (err) {
    return fail(`cannot read the builds: ${readError(err)}`);
  }

  const result = await runAudit({
    mqttUrl,
    ...(str('mqtt-username') ? { mqttUsername: str('mqtt-username')! } : {}),
    ...(password ? { mqttPassword: password } : {}),
    ...(str('ca-file') ? { caFile: str('ca-file')! } : {}),
    apiUrl,
    token,
    listenSeconds,
    from,
    to,
    trustedBuilds: [...trusted],
    config,
  });
  const files = writeReports(result, str('out')!);
  for (const c of result.checks) {
    process.stdout.write(`${c.pass ? 'PASS' : 'FAIL'} ${c.id}\n`);
    for (const f of c.findings.filter((x) => !x.ok)) process.stdout.write(`  ${f.subject}: ${f.en}\n`);
  }
  for (const file of files) process.stdout.write(`report: ${file}\n`);
  return result.pass ? 0 : 1;
}
