export * from './ids.ts';
export * from './windows.ts';
export * from './topics.ts';
export * from './messages.ts';
export * from './json-schema.ts';
export * from './config-layers.ts';
export * from './timeout.ts';
export * from './service.ts';
export type * from './api.ts';
// The API's response schemas are zod objects built at import, of no use to the sensor: the aggregator imports them
// from '@passant/shared/api-schemas'. Their types come along here, as types only.
export type * from './api-schemas.ts';
