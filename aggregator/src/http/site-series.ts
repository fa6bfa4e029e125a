/**
 * A site's series as one caller may read it: the sum, bucket by bucket, of the released series of those of its
 * zones the caller may read (auth/access.ts says why: access composes). Summing released zone series gives
 * exactly what the release layer's own site sum gives for the same zones: a bucket's devices are the sum of the
 * released values in it (null when none was released), its suppressed count the sum of the suppressed cells.
 */
import type { ReleaseLayer, ReleasedSeries, SeriesRequest } from '../release/release-layer.ts';

export async function siteSeries(
  release: ReleaseLayer,
  zoneIds: readonly string[],
  query: SeriesRequest,
  exact: boolean,
): Promise<ReleasedSeries> {
  return (await release.series({ kind: 'zones', ids: zoneIds }, query, { exact }))!;
}

/** Rows a read of `step` buckets scans per zone: minutes, hours or days, as the release layer reads them. */
export function cellsRead(from: number, to: number, step: number): number {
  const source = step % 86_400 === 0 ? 86_400 : step % 3600 === 0 ? 3600 : 60;
  return Math.max(1, Math.ceil((to - from) / source));
}

/**
 * Cells the index's reference period (`reference=from,to`) reads on top of the series: its whole hours from the
 * rollups, the minutes at either end (http/estimates.ts `periodTotals`); 0 without one.
 */
export function referenceCellsRead(reference: { from: number; to: number } | undefined): number {
  if (reference === undefined) return 0;
  const h1 = Math.ceil(reference.from / 3600) * 3600;
  const h2 = Math.floor(reference.to / 3600) * 3600;
  if (h1 >= h2) return cellsRead(reference.from, reference.to, 60);
  return Math.ceil((h1 - reference.from) / 60) + (h2 - h1) / 3600 + Math.ceil((reference.to - h2) / 60);
}
