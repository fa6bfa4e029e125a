/**
 * `@passant/shared/basics`: what Passant's programs agree on that needs no zod (ids, time windows, count limits and
 * RSSI buckets). The sensor's `count` command imports only this, so it starts without building the schemas; the
 * package's main entry exports all of it too.
 */
export * from './ids.ts';
export * from './windows.ts';
export * from './radio-counts.ts';
export * from './timeout.ts';
