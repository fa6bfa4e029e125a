/**
 * The differencing solver: given every released output of the API as an equation (the sum of the base cells of
 * some zones over [from, to) for one radio is `value`) and the base cells, it tries to determine suppressed cells:
 * - a linear system: each output value is the sum of the base cells of its bucket; the cells are the unknowns.
 *   Singleton equations are substituted first, the rest is solved by Gaussian elimination in the field of
 *   integers modulo a 26-bit prime (exact arithmetic; it decides the same rank as the rationals unless the prime
 *   divides a minor, which for these 0/1 systems is negligible). A suppressed cell is recovered when its value
 *   is determined and equals the true value;
 * - differencing: every pair of outputs where one bucket holds the other and the difference holds exactly one
 *   suppressed cell (and otherwise released ones) is tried directly.
 * Used by the attacker test (which knows every cell's true value) and by `passant-aggregator audit` (which does
 * not: there a suppressed cell's value is unknown and any suppressed cell the outputs determine counts).
 */
import type { Radio } from '@passant/shared';

const RADIOS = ['wifi', 'ble'] as const;
const PRIME = 67_108_859; // < 2^26: products of two residues stay below 2^53

/** An output: the sum of the base cells of `zones` in [from, to) for `radio` is `value`. */
export interface Equation {
  radio: Radio;
  zones: string[];
  from: number;
  to: number;
  value: number;
  source: string;
}

export interface Cell {
  zone: string;
  t: number;
  radio: Radio;
  value: number;
  released: boolean;
}

export interface AttackResult {
  equations: number;
  unknowns: number;
  /** Suppressed cells whose value the attacker determined (right or wrong). */
  determined: number;
  /** Suppressed cells recovered with their true value, each once. */
  recovered: { cell: Cell; how: string }[];
  /**
   * Every value the attacker determined for a suppressed cell, whatever its true value (for an audit, which does
   * not know it): an honest release layer leaves suppressed cells out of every output, so what it determines for
   * one is 0.
   */
  determinedCells: { cell: Cell; value: number; how: string }[];
  /** The methods that recovered cells: 'linear' (the system), 'difference' (a pair of outputs). */
  ways: string[];
}

function modInverse(a: number): number {
  let [t, newT, r, newR] = [0, 1, PRIME, ((a % PRIME) + PRIME) % PRIME];
  while (newR !== 0) {
    const q = Math.floor(r / newR);
    [t, newT] = [newT, t - q * newT];
    [r, newR] = [newR, r - q * newR];
  }
  return ((t % PRIME) + PRIME) % PRIME;
}

const mod = (x: number) => ((x % PRIME) + PRIME) % PRIME;
/** A residue read back as a small signed integer. */
const signed = (x: number) => (x > PRIME / 2 ? x - PRIME : x);

export function attack(cells: Cell[], equations: Equation[]): AttackResult {
  const recovered: AttackResult['recovered'] = [];
  const determinedCells: AttackResult['determinedCells'] = [];
  let determined = 0;
  let unknownCount = 0;
  let equationCount = 0;
  for (const radio of RADIOS) {
    const list = cells.filter((c) => c.radio === radio);
    // distinct outputs, each with its cells
    const distinct = new Map<string, Equation>();
    for (const e of equations) if (e.radio === radio) distinct.set(`${e.zones.join('+')}@${e.from}-${e.to}=${e.value}`, e);
    const eqs = [...distinct.values()].map((e) => {
      const vars: number[] = [];
      list.forEach((c, i) => {
        if (c.t >= e.from && c.t < e.to && e.zones.includes(c.zone)) vars.push(i);
      });
      return { ...e, vars, hiddenCount: vars.filter((i) => !list[i]!.released).length };
    });
    const rows = eqs.filter((e) => e.vars.length > 0);
    equationCount += rows.length;
    unknownCount += list.length;
    const knownSum = (vars: number[], known: Map<number, number>) => vars.reduce((s, v) => s + (known.get(v) ?? 0), 0);

    // 1. peeling: an output with one unknown cell left determines it
    const known = new Map<number, number>();
    for (let changed = true; changed; ) {
      changed = false;
      for (const row of rows) {
        const open = row.vars.filter((v) => !known.has(v));
        if (open.length !== 1) continue;
        known.set(open[0]!, row.value - knownSum(row.vars, known));
        changed = true;
      }
    }

    // 2. Gaussian elimination mod p on what is left
    const open = [...new Set(rows.flatMap((r) => r.vars.filter((v) => !known.has(v))))];
    const col = new Map(open.map((v, i) => [v, i]));
    const matrix: number[][] = [];
    for (const row of rows) {
      const vars = row.vars.filter((v) => !known.has(v));
      if (vars.length === 0) continue;
      const line = new Array<number>(open.length + 1).fill(0);
      for (const v of vars) line[col.get(v)!] = 1;
      line[open.length] = mod(row.value - knownSum(row.vars, known));
      matrix.push(line);
    }
    const pivots: number[] = [];
    let r = 0;
    for (let c = 0; c < open.length && r < matrix.length; c++) {
      let p = r;
      while (p < matrix.length && matrix[p]![c] === 0) p++;
      if (p === matrix.length) continue;
      [matrix[r], matrix[p]] = [matrix[p]!, matrix[r]!];
      const inv = modInverse(matrix[r]![c]!);
      for (let j = c; j <= open.length; j++) matrix[r]![j] = (matrix[r]![j]! * inv) % PRIME;
      for (let i = 0; i < matrix.length; i++) {
        if (i === r || matrix[i]![c] === 0) continue;
        const f = matrix[i]![c]!;
        for (let j = c; j <= open.length; j++) matrix[i]![j] = mod(matrix[i]![j]! - ((f * matrix[r]![j]!) % PRIME));
      }
      pivots.push(c);
      r++;
    }
    pivots.forEach((c, i) => {
      const row = matrix[i]!;
      // determined when its pivot row names no other unknown
      if (row.slice(0, open.length).every((x, j) => j === c || x === 0)) known.set(open[c]!, signed(row[open.length]!));
    });
    for (const [i, value] of known) {
      const cell = list[i]!;
      if (cell.released) continue;
      determined++;
      determinedCells.push({ cell, value, how: 'linear system' });
      if (value === cell.value) recovered.push({ cell, how: 'linear system' });
    }

    // 3. differencing pairs directly: B holds A, and B \ A holds exactly one suppressed cell besides released ones
    const releasedValue = new Map<number, number>();
    for (const [i, v] of known) if (list[i]!.released) releasedValue.set(i, v);
    for (const b of rows) {
      for (const a of eqs) {
        if (a === b || b.hiddenCount - a.hiddenCount !== 1 || a.from < b.from || a.to > b.to || !a.zones.every((z) => b.zones.includes(z))) continue;
        const inA = new Set(a.vars);
        const rest = b.vars.filter((i) => !inA.has(i));
        const hidden = rest.filter((i) => !list[i]!.released);
        if (hidden.length !== 1 || rest.some((i) => list[i]!.released && !releasedValue.has(i))) continue;
        const value = b.value - a.value - rest.reduce((s, i) => s + (releasedValue.get(i) ?? 0), 0);
        const cell = list[hidden[0]!]!;
        determinedCells.push({ cell, value, how: `difference of ${b.source} and ${a.source}` });
        if (value === cell.value) recovered.push({ cell, how: `difference of ${b.source} and ${a.source}` });
      }
    }
  }
  // each cell once (the first way found)
  const distinct = new Map(recovered.map((r) => [`${r.cell.zone}@${r.cell.t}/${r.cell.radio}`, r]));
  const ways = new Set(recovered.map((r) => r.how.split(' ')[0]));
  return { equations: equationCount, unknowns: unknownCount, determined, recovered: [...distinct.values()], ways: [...ways], determinedCells };
}
