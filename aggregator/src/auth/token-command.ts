/**
 * `passant-aggregator token ...`: create, list and revoke API tokens in the token database of the configured
 * data folder (the same configuration the aggregator runs with: PASSANT_CONFIG, PASSANT_* or --config).
 *
 *   token create --role viewer --zone z1 [--zone z2] [--site s1] [--owner "Bakery"] [--name "shop 12"] [--json]
 *   token create --role admin|privacy [--name ...] [--json]
 *   token list [--json]
 *   token revoke ID
 *
 * The secret is printed once, by `create`; only its SHA-256 is stored. Revocation takes effect at the next
 * request of the running aggregator (open event streams end within seconds).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AccessLog } from '../access-log/access-log.ts';
import { loadConfig } from '../config.ts';
import type { AggregatorConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { checkCreateInput, isRole, ROLES, TokenStore } from './token-store.ts';
import type { TokenInfo } from './token-store.ts';

export const TOKEN_USAGE = `usage:
  passant-aggregator token create --role viewer [--zone ZONE...] [--site SITE...] [--owner LABEL...] [--name NAME] [--json] [--config FILE]
      (a viewer reads the zones and sites given, and every zone whose owners in the configuration include LABEL)
  passant-aggregator token create --role admin|privacy [--name NAME] [--json] [--config FILE]
  passant-aggregator token list [--json] [--config FILE]
  passant-aggregator token revoke ID [--config FILE]`;

export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Environment for the configuration (default process.env). */
  env?: Record<string, string | undefined>;
}

const defaultIo: CommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** The token database of a configuration: auth.tokensFile, or tokens.db in data.dir. */
export function tokensFileOf(config: Pick<AggregatorConfig, 'auth' | 'data'>): string {
  return config.auth.tokensFile ?? path.join(config.data.dir, 'tokens.db');
}

/** The access log of a configuration: audit.accessLogFile, or access-log.db in data.dir. */
export function accessLogFileOf(config: Pick<AggregatorConfig, 'audit' | 'data'>): string {
  return config.audit.accessLogFile ?? path.join(config.data.dir, 'access-log.db');
}

/** Each token's last recorded use, from the access log (empty when there is none yet). */
function lastUses(config: AggregatorConfig): Map<string, number> {
  const file = accessLogFileOf(config);
  if (!fs.existsSync(file)) return new Map();
  const log = AccessLog.open(file, { retentionDays: config.audit.accessLogDays });
  try {
    return log.lastUse();
  } finally {
    log.close();
  }
}

function describe(info: TokenInfo, lastUse?: number): string {
  const owners = info.owners.length > 0 ? ` owners=${JSON.stringify(info.owners)}` : '';
  const scope = info.role === 'viewer' ? ` zones=${info.zones.join(',') || '-'} sites=${info.sites.join(',') || '-'}${owners}` : '';
  const revoked = info.revokedAt === null ? '' : ` REVOKED ${new Date(info.revokedAt * 1000).toISOString()}`;
  const used = lastUse === undefined ? '' : `  last used ${new Date(lastUse * 1000).toISOString()}`;
  return `${info.id}  ${info.role}${scope}  name=${JSON.stringify(info.name ?? '')}  created ${new Date(info.createdAt * 1000).toISOString()}${used}${revoked}`;
}

/** Runs `token <sub> ...`; returns the exit code (0 ok, 1 failure, 2 usage). */
export function tokenCommand(args: string[], io: CommandIo = defaultIo): number {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help' || rest.includes('--help') || rest.includes('-h')) {
    io.out(`${TOKEN_USAGE}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        role: { type: 'string' },
        zone: { type: 'string', multiple: true },
        site: { type: 'string', multiple: true },
        owner: { type: 'string', multiple: true },
        name: { type: 'string' },
        json: { type: 'boolean' },
        config: { type: 'string' },
      },
    });
  } catch (err) {
    io.err(`passant-aggregator token: ${(err as Error).message}\n${TOKEN_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') {
    io.err(`passant-aggregator token: ${sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`}\n${TOKEN_USAGE}\n`);
    return 2;
  }
  if ((sub === 'revoke' && positionals.length !== 1) || (sub !== 'revoke' && positionals.length > 0)) {
    io.err(`passant-aggregator token ${sub}: ${sub === 'revoke' ? 'give exactly one token id' : `unexpected argument ${JSON.stringify(positionals[0])}`}\n${TOKEN_USAGE}\n`);
    return 2;
  }
  if (sub !== 'create' && [values.role, values.zone, values.site, values.owner, values.name].some((v) => v !== undefined)) {
    io.err(`passant-aggregator token ${sub}: --role, --zone, --site, --owner and --name are for create\n${TOKEN_USAGE}\n`);
    return 2;
  }

  let config: AggregatorConfig;
  try {
    config = loadConfig({ env: io.env ?? process.env, ...(values.config !== undefined ? { configFile: values.config } : {}) });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`passant-aggregator: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  if (sub === 'create') {
    const role = values.role;
    if (!isRole(role)) {
      io.err(`passant-aggregator token create: --role must be one of ${ROLES.join(', ')}\n${TOKEN_USAGE}\n`);
      return 2;
    }
    const input = { role, zones: values.zone ?? [], sites: values.site ?? [], owners: values.owner ?? [], name: values.name ?? null };
    const problems = checkCreateInput(input);
    const zoneIds = new Set(config.zones.map((z) => z.id));
    const siteIds = new Set(config.sites.map((s) => s.id));
    for (const id of input.zones) if (!zoneIds.has(id)) problems.push(`zone ${JSON.stringify(id)} is not in the configuration (zones: ${[...zoneIds].join(', ') || 'none'})`);
    for (const id of input.sites) if (!siteIds.has(id)) problems.push(`site ${JSON.stringify(id)} is not in the configuration (sites: ${[...siteIds].join(', ') || 'none'})`);
    const ownerLabels = new Set(config.zones.flatMap((z) => z.owners));
    for (const owner of input.owners) {
      if (!ownerLabels.has(owner)) problems.push(`no zone in the configuration has owner ${JSON.stringify(owner)} (zones[].owners)`);
    }
    if (problems.length > 0) {
      io.err(`passant-aggregator token create:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
      return 1;
    }
    const store = TokenStore.open(tokensFileOf(config));
    try {
      const { token, info } = store.create(input);
      if (values.json) io.out(`${JSON.stringify({ ...info, token })}\n`);
      else {
        io.out(`created ${describe(info)}\n`);
        io.out('the token (shown only now; keep it secret, send it as "Authorization: Bearer <token>"):\n');
        io.out(`${token}\n`);
      }
      return 0;
    } finally {
      store.close();
    }
  }

  const store = TokenStore.open(tokensFileOf(config));
  try {
    if (sub === 'list') {
      const list = store.list();
      const used = lastUses(config);
      if (values.json) io.out(`${JSON.stringify(list.map((info) => ({ ...info, lastUsedAt: used.get(info.id) ?? null })))}\n`);
      else if (list.length === 0) io.out('no tokens\n');
      else for (const info of list) io.out(`${describe(info, used.get(info.id))}\n`);
      return 0;
    }
    const id = positionals[0]!;
    const result = store.revoke(id);
    if (result === 'not_found') {
      io.err(`passant-aggregator token revoke: no token ${JSON.stringify(id.slice(0, 80))} (token list shows the ids)\n`);
      return 1;
    }
    io.out(result === 'revoked' ? `revoked ${id}\n` : `${id} was already revoked\n`);
    return 0;
  } finally {
    store.close();
  }
}
