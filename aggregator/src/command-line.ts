/**
 * What the commands that talk to other services (`audit`, `home-assistant`) share on their command line: a usage
 * error (the message and the usage on stderr, exit code 2), parsing the options strictly with --help, and secrets
 * that never go on the command line (ps shows it to every user of the machine): each comes from --NAME-file FILE
 * or from an environment variable, and --NAME itself is refused.
 */
import fs from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

export type OptionValues = Record<string, string | string[] | boolean | undefined>;

/** A secret option: `--NAME-file FILE` or the variable `env`; `--NAME VALUE` is refused. */
export interface SecretOption {
  name: string;
  env: string;
}

export interface CommandSpec {
  /** `passant-aggregator COMMAND` in messages. */
  command: string;
  usage: string;
  options: ParseArgsOptionsConfig;
  secrets?: readonly SecretOption[];
}

/** Writes `passant-aggregator COMMAND: message` and the usage to stderr; returns the exit code of a usage error, 2. */
export function usageError(spec: Pick<CommandSpec, 'command' | 'usage'>, message: string): number {
  process.stderr.write(`passant-aggregator ${spec.command}: ${message}\n${spec.usage}\n`);
  return 2;
}

/** The error code of a failed file read (ENOENT, EACCES), else its message; never the file's content. */
export function readError(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/**
 * The options of `args` (strict: an unknown option or a missing value is a usage error), with `--help`/`-h` and a
 * `--NAME-file` option for each secret added; or the exit code when there is nothing more to do: 0 after printing
 * the usage for --help, 2 after a usage error (a secret given on the command line among them).
 */
export function parseCommandLine(spec: CommandSpec, args: string[]): OptionValues | number {
  const secrets = spec.secrets ?? [];
  const given = secrets.filter((s) => args.some((a) => a === `--${s.name}` || a.startsWith(`--${s.name}=`)));
  if (given.length > 0) {
    const ways = secrets.map((s) => `--${s.name}-file or ${s.env}`).join(', ');
    return usageError(spec, `a secret never goes on the command line (ps shows it): use ${ways}`);
  }
  const options: ParseArgsOptionsConfig = { ...spec.options, help: { type: 'boolean', short: 'h' } };
  for (const s of secrets) options[`${s.name}-file`] = { type: 'string' };
  let values: OptionValues;
  try {
    values = parseArgs({ args, strict: true, options }).values as OptionValues;
  } catch (err) {
    return usageError(spec, (err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${spec.usage}\n`);
    return 0;
  }
  return values;
}

/**
 * Each secret of `spec` (by name): the text of its --NAME-file when given, else its environment variable; trimmed,
 * undefined when not set. Or the exit code of a usage error: a file that cannot be read, or is empty.
 */
export function readSecrets(spec: CommandSpec, values: OptionValues, env: NodeJS.ProcessEnv): Record<string, string | undefined> | number {
  const out: Record<string, string | undefined> = {};
  for (const s of spec.secrets ?? []) {
    const file = values[`${s.name}-file`] as string | undefined;
    if (file === undefined) {
      out[s.name] = env[s.env]?.trim() || undefined;
      continue;
    }
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8').trim();
    } catch (err) {
      return usageError(spec, `cannot read --${s.name}-file ${file}: ${readError(err)}`);
    }
    if (text === '') return usageError(spec, `--${s.name}-file ${file} is empty`);
    out[s.name] = text;
  }
  return out;
}
