/** @passant/aggregator: MQTT ingest, store, release layer and HTTP API. */
export { startAggregator, AGGREGATOR_VERSION } from './aggregator.ts';
export type { RunningAggregator, StartAggregatorOptions } from './aggregator.ts';
export {
  AggregatorConfigSchema,
  configReference,
  configMarkdownTable,
  loadConfig,
  parseConfig,
  redactConfig,
  sanitizeId,
  defaultInstanceId,
  DEFAULT_DASHBOARD_DIR,
} from './config.ts';
export type { AggregatorConfig, AggregatorConfigInput, ConfigKeyReference, LoadConfigOptions, SiteConfig, ZoneConfig } from './config.ts';
export { ConfigError, HttpError, StoreError } from './errors.ts';
export { createLogger } from './logger.ts';
export { AggregatorMetrics } from './metrics.ts';
export { Registry } from './registry.ts';
export type { RegistryChange, RegistryOptions, SiteInput, UnassignedSensor, ZoneInput } from './registry.ts';
export { RegistryWatcher } from './registry-watcher.ts';
export type { RegistryWatcherOptions, ReloadResult } from './registry-watcher.ts';
export { SqliteStore, SQLITE_SCHEMA_VERSION } from './store/sqlite-store.ts';
export type {
  CellsReadOptions,
  CountsStore,
  DeleteResult,
  FrozenCell,
  FrozenRadio,
  PutResult,
  ReleaseStore,
  Rollup,
  RollupRadio,
  RollupStep,
  SensorStats,
  SensorWindow,
  WindowKey,
} from './store/types.ts';
export { ROLLUP_STEPS } from './store/types.ts';
export { MemoryStore } from './store/memory-store.ts';
export { movingDevices, releasedByPeopleRule } from './release/release-series.ts';
export type { CellPart } from './release/release-series.ts';
export { settleDeadline } from './release/settle.ts';
export { ReleaseLayer } from './release/release-layer.ts';
export type {
  NoiseInfo,
  ReleasedCell,
  ReleasedSeries,
  ReleaseLayerOptions,
  SeriesOptions,
  SeriesRequest,
  SeriesTarget,
} from './release/release-layer.ts';
export { NOISE_MECHANISM, noiseFor, noiseSettingsOf, noiseVariance } from './release/noise.ts';
export type { NoiseSettings } from './release/noise.ts';
export { LiveUpdates } from './release/live-updates.ts';
export { validateCounts, validateSensorStatus, REJECT_REASONS, SUPPORTED_WINDOW_SECONDS } from './ingest/validate-counts.ts';
export type { RejectReason } from './ingest/validate-counts.ts';
export { MqttIngest, clientIdOf } from './ingest/mqtt-ingest.ts';
export { SensorHealthTracker } from './ingest/sensor-health.ts';
export type { SensorHealth, SensorState } from './ingest/sensor-health.ts';
export { parseSeriesQuery } from './http/series-query.ts';
export { parseProfileQuery } from './http/series-query.ts';
export { createHttpApp } from './http/app.ts';
export type { HttpApp, HttpAppOptions } from './http/app.ts';
export { apiRoutesMarkdown, buildOpenApiDocument, ROUTES as API_ROUTES } from './http/openapi.ts';
export type { OpenApiDocument, RouteDoc } from './http/openapi.ts';
export { TokenStore, ROLES, isRole, hashToken, checkCreateInput, TOKEN_PREFIX } from './auth/token-store.ts';
export type { Role, TokenInfo, CreateTokenInput } from './auth/token-store.ts';
export { AccessPolicy, ANONYMOUS } from './auth/access.ts';
export type { Principal, PublicAccess, PublicScope } from './auth/access.ts';
export { tokenCommand, tokensFileOf } from './auth/token-command.ts';
