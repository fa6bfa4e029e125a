/**
 * The one configuration loader of Passant's programs (Node only: it reads files; import it from
 * '@passant/shared/config-loader', never from the package index, so the dashboard does not pull in node:fs).
 *
 * Layers, later wins:
 *   the schema's defaults < `defaults` (a program's computed defaults, e.g. the sensor's PASSANT_DATA_DIR)
 *   < the config file (JSON when its name ends in .json, else YAML) < the environment (one PASSANT_* variable per
 *   scalar key, see `configEnvName`) < `overrides` (the command line and in-process callers: tests, scripts).
 *
 * Unset: a key is unset when it is absent (`undefined`); null is not used to mean "unset" anywhere. An
 * environment variable that is empty or only blanks is unset too (the same as no variable): it leaves the layers
 * below as they are.
 *
 * Problems: every problem of every layer, of the program's schema and of its cross-checks is collected and
 * thrown as ONE `ConfigError` whose `problems` lists them all (`path`, `message`, and `source`: the variable or
 * file the value came from). No message repeats a value from the file or the environment (they may be secrets):
 * parser errors are reduced to where the file is wrong (line and column).
 *
 * A program keeps only its schema, its cross-checks (`crossCheck`, run on the merged input even when the schema
 * fails, so that every problem is listed at once) and its checks of the parsed result (`check`: files readable...).
 */
import fs from 'node:fs';
import type { z } from 'zod';
import { configEnvName, configSchemaLeaves, isPlainObject, mergeConfigLayers, setConfigPath, type ConfigSchemaNode } from './config-layers.ts';

/** One problem with a configuration. */
export interface ConfigProblem {
  /** Key path (`mqtt.url`, `zones[1].sensors[0]`, `(root)`), or what else is wrong (`config file`, `command line`). */
  path: string;
  message: string;
  /** Where the value came from (`set by PASSANT_MQTT_URL`, `in /etc/passant/config.yaml`), when known. */
  source?: string;
}

/** A problem found by a program's cross-check: its key path as parts (numbers are list positions). */
export interface ConfigCheckProblem {
  path: readonly (string | number)[];
  message: string;
}

/** `['zones', 1, 'sensors', 0]` -> `zones[1].sensors[0]`; the empty path is `(root)`. */
export function formatConfigPath(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** A problem as one line: `path: message (source)`. */
export function formatConfigProblem(problem: ConfigProblem): string {
  return `${problem.path}: ${problem.message}${problem.source ? ` (${problem.source})` : ''}`;
}

/** The configuration is unusable; `problems` lists every problem found, each once. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  /** `subject` names what is invalid in the message (default `configuration`). */
  constructor(problems: ConfigProblem[], options?: { cause?: unknown; subject?: string }) {
    super(`invalid ${options?.subject ?? 'configuration'}:\n${problems.map((p) => `  - ${formatConfigProblem(p)}`).join('\n')}`, options);
    this.name = 'ConfigError';
    this.problems = problems;
  }

  /** Every problem as one line (`path: message (source)`). */
  lines(): string[] {
    return this.problems.map(formatConfigProblem);
  }
}

/** A key that an environment variable sets. */
export interface ConfigEnvKey {
  path: readonly string[];
  /** The variable (`PASSANT_MQTT_URL`). */
  env: string;
  /** JSON Schema type of the key, alternatives joined by `|` (`integer`, `string|array`). */
  type: string;
}

/** The JSON type(s) of a schema node, alternatives joined by `|`, and the values of an enum. */
export function configLeafType(node: ConfigSchemaNode): { type: string; values?: string[] } {
  if (node.anyOf) {
    const parts = node.anyOf.map((n) => configLeafType(n));
    const values = parts.find((p) => p.values)?.values;
    return { type: parts.map((p) => p.type).join('|'), ...(values ? { values } : {}) };
  }
  if (node.enum) return { type: node.type ?? 'string', values: node.enum.map(String) };
  return { type: node.type ?? 'string' };
}

/** Every leaf key of `schema` with its environment variable and type (for the environment reader and key tables). */
export function configEnvKeys(schema: z.ZodType): ConfigEnvKey[] {
  return configSchemaLeaves(schema).map(({ path, node }) => ({ path, env: configEnvName(path), type: configLeafType(node).type }));
}

/**
 * Converts an environment value to the key's type; a value that does not convert is returned unchanged, for the
 * schema to report. Lists are comma-separated (only for keys that cannot also be a string: the schema splits
 * those itself). Booleans: true/1/yes/on and false/0/no/off.
 */
export function coerceEnvValue(raw: string, type: string): unknown {
  const v = raw.trim();
  const types = type.split('|');
  if (types.includes('string')) return raw;
  if (types.includes('array')) return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (types.includes('integer') || types.includes('number')) return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v) ? Number(v) : raw;
  if (types.includes('boolean')) {
    if (/^(true|1|yes|on)$/i.test(v)) return true;
    if (/^(false|0|no|off)$/i.test(v)) return false;
  }
  return raw;
}

/** Where a parser error is, without the text around it (the file may hold secrets). */
function parseErrorPlace(err: unknown, text: string): string {
  const e = err as { message?: string; linePos?: { line: number; col: number }[]; code?: string };
  if (Array.isArray(e.linePos) && e.linePos[0]) return ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}${e.code ? ` (${e.code})` : ''}`;
  const position = /position (\d+)/.exec(e.message ?? '');
  if (position) {
    const before = text.slice(0, Number(position[1]));
    const line = before.split('\n').length;
    return ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
  }
  if (/unexpected end/i.test(e.message ?? '')) return ': it ends too early';
  return '';
}

/**
 * Reads a config file: JSON when its name ends in .json, else YAML (through `parseYaml`; YAML is a superset of
 * JSON). An empty file is an empty object. Problems are returned, never thrown; none repeats the file's content.
 */
export function readConfigFile(file: string, parseYaml?: (text: string) => unknown): { data?: Record<string, unknown>; problems: ConfigProblem[] } {
  const problem = (message: string) => ({ problems: [{ path: 'config file', message: `${file} ${message}` }] });
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return problem(`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const json = file.toLowerCase().endsWith('.json');
  if (!json && parseYaml === undefined) return problem('is not JSON (a name ending in .json), and this program reads no YAML');
  let data: unknown;
  try {
    data = json ? JSON.parse(text) : parseYaml!(text);
  } catch (err) {
    return problem(`is not valid ${json ? 'JSON' : 'YAML'}${parseErrorPlace(err, text)}`);
  }
  if (data === null || data === undefined) return { data: {}, problems: [] };
  if (!isPlainObject(data)) return problem(`must hold an object (key: value pairs), not ${Array.isArray(data) ? 'a list' : typeof data}`);
  return { data, problems: [] };
}

export interface LoadConfigOptions<T> {
  /** The config file, if any. */
  file?: string;
  /** The environment (default: none; main passes process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The keys the environment sets (default: `configEnvKeys(schema)`, every leaf). */
  envKeys?: readonly ConfigEnvKey[];
  /** Variables read besides those of `envKeys`, each below the one it stands in for: `{ PORT: 'PASSANT_HTTP_PORT' }`. */
  envAliases?: Readonly<Record<string, string>>;
  /** The program's computed defaults, laid over the schema's and under the file. */
  defaults?: Record<string, unknown>;
  /** The command line (and in-process callers): over everything. */
  overrides?: Record<string, unknown>;
  /** YAML parser (each program brings its own, loaded when it needs it); without it only JSON files are read. */
  parseYaml?: (text: string) => unknown;
  /** Looks at the file's content before it is laid (e.g. refuses secrets in it); may delete keys it refuses. */
  screenFile?: (data: Record<string, unknown>, file: string) => ConfigProblem[];
  /** Checks across keys, on the merged input before the schema (so that they run when other keys are wrong). */
  crossCheck?: (input: unknown) => readonly ConfigCheckProblem[];
  /** Checks of the parsed configuration (files readable...); may complete it (a password read from a file). */
  check?: (config: T) => ConfigProblem[];
  /** Names what is invalid in the error message (default `configuration`). */
  subject?: string;
  /** Problems found before loading (e.g. in the command line), listed first. */
  problems?: ConfigProblem[];
}

/** Whether `parts` (or a key above it) is present in `layer`. */
function presentIn(layer: Record<string, unknown> | undefined, parts: readonly PropertyKey[]): boolean {
  if (layer === undefined) return false;
  let node: unknown = layer;
  for (const part of parts) {
    if (!isPlainObject(node) && !Array.isArray(node)) return true;
    if (!Object.hasOwn(node as object, part as string)) return false;
    node = (node as Record<string, unknown>)[part as string];
  }
  return true;
}

/** Schema issues and cross-check problems as ConfigProblems, each (path and message) once. */
function collect(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  cross: readonly ConfigCheckProblem[],
  sourceOf: (parts: readonly PropertyKey[]) => string | undefined,
): ConfigProblem[] {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const issue of [...issues, ...cross]) {
    const path = formatConfigPath(issue.path);
    const key = `${path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const source = sourceOf(issue.path);
    out.push({ path, message: issue.message, ...(source ? { source } : {}) });
  }
  return out;
}

/**
 * Builds a configuration from its layers (see the top of this file), parses it with `schema` and runs the
 * program's checks. Throws one `ConfigError` listing every problem.
 */
export function loadConfig<S extends z.ZodType>(schema: S, options: LoadConfigOptions<z.output<S>> = {}): z.output<S> {
  const env = options.env ?? {};
  const problems: ConfigProblem[] = [...(options.problems ?? [])];
  let merged: Record<string, unknown> = options.defaults ? mergeConfigLayers({}, options.defaults) : {};

  let fromFile: Record<string, unknown> | undefined;
  if (options.file !== undefined) {
    const read = readConfigFile(options.file, options.parseYaml);
    problems.push(...read.problems);
    if (read.data) {
      problems.push(...(options.screenFile?.(read.data, options.file) ?? []));
      fromFile = read.data;
      merged = mergeConfigLayers(merged, fromFile);
    }
  }

  const fromEnv: Record<string, unknown> = {};
  const envSource = new Map<string, string>();
  const aliasOf = new Map(Object.entries(options.envAliases ?? {}).map(([alias, target]) => [target, alias]));
  for (const key of options.envKeys ?? configEnvKeys(schema)) {
    const alias = aliasOf.get(key.env);
    const name = env[key.env]?.trim() ? key.env : alias !== undefined && env[alias]?.trim() ? alias : undefined;
    if (name === undefined) continue;
    setConfigPath(fromEnv, key.path, coerceEnvValue(env[name]!, key.type));
    envSource.set(formatConfigPath(key.path), `set by ${name}`);
  }
  merged = mergeConfigLayers(merged, fromEnv);
  if (options.overrides) merged = mergeConfigLayers(merged, options.overrides);

  const sourceOf = (parts: readonly PropertyKey[]): string | undefined => {
    const env = envSource.get(formatConfigPath(parts));
    if (env) return env;
    if (presentIn(options.overrides, parts)) return undefined;
    return presentIn(fromFile, parts) ? `in ${options.file}` : undefined;
  };
  const result = schema.safeParse(merged);
  const cross = options.crossCheck?.(merged) ?? [];
  if (!result.success || cross.length > 0) problems.push(...collect(result.success ? [] : result.error.issues, cross, sourceOf));
  if (result.success) problems.push(...(options.check?.(result.data) ?? []));
  if (problems.length > 0) throw new ConfigError(problems, options.subject ? { subject: options.subject } : undefined);
  return result.data as z.output<S>;
}

/**
 * Parses a configuration given as an object (in-process callers): the schema's defaults are filled in, no file
 * and no environment are read. Throws one `ConfigError` listing every problem, cross-checks included.
 */
export function parseConfigObject<S extends z.ZodType>(
  schema: S,
  input: unknown,
  options: { crossCheck?: (input: unknown) => readonly ConfigCheckProblem[]; subject?: string } = {},
): z.output<S> {
  const result = schema.safeParse(input ?? {});
  const cross = options.crossCheck?.(input ?? {}) ?? [];
  if (result.success && cross.length === 0) return result.data as z.output<S>;
  throw new ConfigError(collect(result.success ? [] : result.error.issues, cross, () => undefined), options.subject ? { subject: options.subject } : undefined);
}
