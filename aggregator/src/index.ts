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
export { SqliteStore, SQLITE_SCHEMA_VERSION } from './store/sqlite-store.ts';
export type { CountsStore, PutResult, WindowSum } from './store/types.ts';
export { releaseCell, releaseSeries } from './release/release-series.ts';
export type { BaseCell, ReleaseOptions } from './release/release-series.ts';
export { isSettled, settleDeadline } from './release/settle.ts';
export { ReleaseLayer } from './release/release-layer.ts';
export type { ReleasedCell } from './release/release-layer.ts';
export { LiveUpdates } from './release/live-updates.ts';
export { validateCounts, validateSensorStatus, REJECT_REASONS, SUPPORTED_WINDOW_SECONDS } from './ingest/validate-counts.ts';
export type { RejectReason } from './ingest/validate-counts.ts';
export { MqttIngest, clientIdOf } from './ingest/mqtt-ingest.ts';
export { SensorHealthTracker } from './ingest/sensor-health.ts';
export type { SensorHealth, SensorState } from './ingest/sensor-health.ts';
export { parseSeriesQuery } from './http/series-query.ts';
