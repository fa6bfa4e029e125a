/**
 * @passant/sensor-agent: what other programs and tests use.
 *
 *   startAgent(config, deps?)   run a sensor in-process (e.g. a simulated one for `npm start`)
 *   sensorBuild()               this sensor's build (version, commit, SHA-256 of its code) as its status announces it
 *   loadSensorConfig / SensorConfigSchema / sensorConfigKeys   the configuration and its documented keys
 *   Simulator / simulateRange / dayCurve                        the simulated crowd
 */
export { startAgent, createSource, radiosOf, AGENT_VERSION, type Agent, type AgentDeps, type AgentStats } from './agent.ts';
export { sensorBuild, bundleSha256, sourcesSha256, type SensorBuild } from './build-info.ts';
export {
  SensorConfigSchema,
  SourceConfigSchema,
  SimulatorConfigSchema,
  MqttConfigSchema,
  OutboxConfigSchema,
  LogConfigSchema,
  loadSensorConfig,
  parseSensorConfig,
  redactSensorConfig,
  sensorConfigKeys,
  DeliveryConfigSchema,
  ConfigError,
  EXTRA_ENV,
  SOURCE_KINDS,
  LOG_LEVELS,
  type SensorConfig,
  type SensorConfigInput,
  type ConfigKey,
  type ConfigProblem,
  type LoadSensorConfigOptions,
} from './config.ts';
export { Simulator, Crowd, simulateRange, dayCurve, type SimulatorOptions } from './sources/simulator.ts';
export { MqttPublisher, InvalidCountsError, type MqttPublisherOptions, type PublisherStats } from './sinks/mqtt-publisher.ts';
export { Outbox, OutboxError, type OutboxOptions } from './sinks/outbox.ts';
export { createLogger, silentLogger, type Logger } from './log.ts';
export { runAgentCommand } from './main.ts';
