/**
 * Reads the aggregator's Prometheus text (`GET /metrics`): the sum of every sample of `name` whose labels include
 * all of `labels` (each equal); 0 when there is none.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

/** `GET <baseUrl>/metrics` as text; throws on an HTTP error, and after `timeoutMs` when one is given. */
export async function fetchMetrics(baseUrl: string, timeoutMs?: number): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`, timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${baseUrl}/metrics: HTTP ${res.status}`);
  return text;
}
