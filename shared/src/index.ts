export * from './ids.ts';
export * from './windows.ts';
export * from './topics.ts';
export * from './messages.ts';
export * from './json-schema.ts';
export * from './config-layers.ts';
export type * from './api.ts';
export * from './api-schemas.ts';
