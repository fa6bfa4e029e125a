/**
 * How both programs layer their configuration (defaults < config file < environment), the part they must agree on:
 * the environment variable of a key, how one layer is laid over another, and the keys of a config schema (for
 * their README tables and environment readers). Pure functions, no I/O.
 */
import { z } from 'zod';

/** A node of the JSON Schema of a config schema (`z.toJSONSchema`, input side): the fields the key listings read. */
export interface ConfigSchemaNode {
  type?: string;
  anyOf?: ConfigSchemaNode[];
  enum?: unknown[];
  properties?: Record<string, ConfigSchemaNode>;
  default?: unknown;
  description?: string;
  /** Set through `.meta({ defaultLabel })` where the default is computed. */
  defaultLabel?: string;
}

/** Every leaf key of a config schema, in schema order (objects are walked into), with its path and schema node. */
export function configSchemaLeaves(schema: z.ZodType): { path: string[]; node: ConfigSchemaNode }[] {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as ConfigSchemaNode;
  const leaves: { path: string[]; node: ConfigSchemaNode }[] = [];
  const walk = (node: ConfigSchemaNode, parts: string[]): void => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const path = [...parts, name];
      if (child.type === 'object' && child.properties) walk(child, path);
      else leaves.push({ path, node: child });
    }
  };
  walk(root, []);
  return leaves;
}

/** The environment variable of a config key: `['mqtt', 'reconnectPeriodMs']` -> `PASSANT_MQTT_RECONNECT_PERIOD_MS`. */
export function configEnvName(keyPath: readonly string[]): string {
  return ['PASSANT', ...keyPath.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())].join('_');
}

/** An object such as a config file holds (`key: value`): not null, not an array. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `over` laid on `base`: objects are merged key by key; anything else (arrays too) in `over` replaces what is in `base`. */
export function mergeConfigLayers(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const under = Object.hasOwn(out, key) ? out[key] : undefined;
    // defineProperty, not `out[key] =`: a `__proto__` key in a config file stays an own (unknown, so refused)
    // key instead of replacing the object's prototype.
    Object.defineProperty(out, key, {
      value: isPlainObject(under) && isPlainObject(value) ? mergeConfigLayers(under, value) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Sets `value` at `keyPath` in `target`, making (or replacing with) objects on the way. */
export function setConfigPath(target: Record<string, unknown>, keyPath: readonly string[], value: unknown): void {
  let node = target;
  for (const key of keyPath.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keyPath[keyPath.length - 1]!] = value;
}
