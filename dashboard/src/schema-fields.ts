/**
 * The fields of a JSON Schema as rows a person can read: the counts message schema the privacy page shows
 * ("what a sensor sends"). Pure; nested objects become dotted paths (`wifi.devices`); `$ref`s into `$defs` are
 * followed. The schema comes from the server, so every walk is bounded in depth and in rows.
 */

export type Constraint =
  | { kind: 'const'; value: string }
  | { kind: 'range'; min: number | null; max: number | null }
  | { kind: 'items'; min: number | null; max: number | null }
  /** The range of each item of an array. */
  | { kind: 'itemRange'; min: number | null; max: number | null }
  | { kind: 'pattern'; pattern: string }
  | { kind: 'enum'; values: string[] };

export interface FieldRow {
  /** Dotted path, e.g. `wifi.devices`. */
  path: string;
  /** The last part of the path. */
  name: string;
  depth: number;
  /** JSON types, e.g. ['integer'] or ['integer', 'null']. */
  types: string[];
  /** Type of the items of an array. */
  itemTypes: string[];
  required: boolean;
  constraints: Constraint[];
  description: string | null;
}

export interface SchemaSummary {
  title: string | null;
  rows: FieldRow[];
  /** True when the schema refuses any field it does not list (additionalProperties: false). */
  closed: boolean;
  /** True when the walk stopped at its bounds. */
  truncated: boolean;
}

const MAX_DEPTH = 6;
const MAX_ROWS = 200;
/** Bounds at or beyond these are no real limit (zod writes the safe-integer range for an unbounded integer). */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bound(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < NO_LIMIT ? value : null;
}

function text(value: unknown, max = 300): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.slice(0, max) : null;
}

/** Follows a local `$ref` (`#/$defs/Name` or `#/definitions/Name`), a few steps at most. */
function resolve(node: unknown, root: Json): Json | null {
  let current = node;
  for (let i = 0; i < 8 && isRecord(current); i++) {
    const ref = current.$ref;
    if (typeof ref !== 'string') return current;
    const match = /^#\/(\$defs|definitions)\/([^/]{1,100})$/.exec(ref);
    const defs = match ? root[match[1]!] : undefined;
    current = match && isRecord(defs) ? defs[decodeURIComponent(match[2]!)] : undefined;
  }
  return null;
}

/** The alternatives of a node: `anyOf`/`oneOf` members, or the node itself. */
function variants(node: Json, root: Json): Json[] {
  const list = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : null;
  if (list === null) return [node];
  return list.slice(0, 10).map((v) => resolve(v, root)).filter((v): v is Json => v !== null);
}

function typesOf(node: Json): string[] {
  if (typeof node.type === 'string') return [node.type];
  if (Array.isArray(node.type)) return node.type.filter((t): t is string => typeof t === 'string');
  if ('const' in node) return [node.const === null ? 'null' : typeof node.const === 'number' ? 'number' : typeof node.const];
  return [];
}

function constraintsOf(node: Json): Constraint[] {
  const out: Constraint[] = [];
  if ('const' in node) out.push({ kind: 'const', value: JSON.stringify(node.const) ?? 'null' });
  const min = bound(node.minimum ?? node.exclusiveMinimum);
  const max = bound(node.maximum ?? node.exclusiveMaximum);
  if (min !== null || max !== null) out.push({ kind: 'range', min, max });
  const minItems = bound(node.minItems);
  const maxItems = bound(node.maxItems);
  if (minItems !== null || maxItems !== null) out.push({ kind: 'items', min: minItems, max: maxItems });
  const pattern = text(node.pattern, 200);
  if (pattern !== null) out.push({ kind: 'pattern', pattern });
  if (Array.isArray(node.enum)) out.push({ kind: 'enum', values: node.enum.slice(0, 20).map((v) => JSON.stringify(v) ?? 'null') });
  return out;
}

export function schemaFields(schema: unknown): SchemaSummary {
  const rows: FieldRow[] = [];
  let truncated = false;
  if (!isRecord(schema)) return { title: null, rows, closed: false, truncated };
  const root = schema;
  const top = resolve(root, root);

  const walk = (node: Json, prefix: string, depth: number): void => {
    const properties = node.properties;
    if (!isRecord(properties)) return;
    const required = Array.isArray(node.required) ? node.required.filter((r): r is string => typeof r === 'string') : [];
    for (const [name, raw] of Object.entries(properties)) {
      if (rows.length >= MAX_ROWS || depth > MAX_DEPTH) {
        truncated = true;
        return;
      }
      const field = resolve(raw, root);
      if (field === null) continue;
      const alternatives = variants(field, root);
      const types = [...new Set(alternatives.flatMap(typesOf))];
      const items = alternatives.map((a) => resolve(a.items, root)).find((i): i is Json => i !== null);
      const constraints = alternatives.flatMap(constraintsOf);
      if (items) for (const c of constraintsOf(items)) if (c.kind === 'range') constraints.push({ kind: 'itemRange', min: c.min, max: c.max });
      const path = prefix === '' ? name : `${prefix}.${name}`;
      rows.push({
        path,
        name,
        depth,
        types,
        itemTypes: items ? typesOf(items) : [],
        required: required.includes(name),
        constraints,
        description: text(field.description) ?? alternatives.map((a) => text(a.description)).find((d) => d !== null) ?? null,
      });
      const object = alternatives.find((a) => isRecord(a.properties));
      if (object) walk(object, path, depth + 1);
    }
  };
  if (top) walk(top, '', 0);
  return { title: text(root.title, 200), rows, closed: top?.additionalProperties === false, truncated };
}
