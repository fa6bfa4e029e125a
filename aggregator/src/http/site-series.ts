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
