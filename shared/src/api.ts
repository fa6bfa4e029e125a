/** Types of the aggregator's HTTP API (`/api/v1`), shared with the dashboard. */
import type { Radio } from './messages.ts';
import type { ApiErrorBody, SeriesBody } from './api-schemas.ts';
import type { SeriesStep } from './windows.ts';

export interface ZoneInfo {
  id: string;
  name: string;
}

/**
 * A columnar series (what uPlot takes): `t[i]` is the bucket start in Unix seconds, `devices[i]` the sum of
 * the released base cells in bucket i (null when every cell in it was suppressed or none exists),
 * `suppressed[i]` how many base cells in it were below k. `noise` is present when the values carry noise (open
 * data, aggregator config `noise`): integer noise from the two-sided geometric distribution with this epsilon per
 * released zone-minute, the same on every request.
 */
export type SeriesResponse = SeriesBody;

export interface SeriesQuery {
  from: number;
  to: number;
  step: SeriesStep;
  radio: Radio;
}

/** Every HTTP error body. */
export type ApiError = ApiErrorBody;
