/**
 * `passant-sensor run`: the only place that reads the environment. Loads the config (every problem listed,
 * exit 1 before connecting anything), starts the agent, and shuts it down cleanly on SIGINT or SIGTERM (or when
 * a capture-file source is done). Exit code: 0 after a clean stop, 1 on a config or start-up error or when the
 * source failed.
 */
import { ConfigError, loadSensorConfig, type SensorConfig } from './config.ts';
import { startAgent, type Agent } from './agent.ts';
import { createLogger } from './log.ts';

export async function runAgentCommand(args: string[]): Promise<number> {
  let config: SensorConfig;
  try {
    config = loadSensorConfig({ env: process.env, argv: args });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`passant-sensor: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  const logger = createLogger({ level: config.log.level });
  const log = logger.child({ component: 'main', sensorId: config.sensorId });

  let agent: Agent;
  try {
    agent = await startAgent(config, { logger });
  } catch (err) {
    log.fatal({ err }, 'could not start the agent');
    return 1;
  }

  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (signal) => resolve(signal);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  const outcome = await Promise.race([
    signalled.then((signal) => ({ kind: 'signal' as const, signal })),
    agent.done.then(
      () => ({ kind: 'done' as const }),
      (err: unknown) => ({ kind: 'failed' as const, err }),
    ),
  ]);
  if (outcome.kind === 'signal') log.info({ signal: outcome.signal }, 'signal received; shutting down');
  // A second signal during shutdown is not fatal: every shutdown step has its own time limit.
  const ignore = (): void => log.warn('already shutting down');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  try {
    await agent.close();
  } finally {
    process.removeListener('SIGINT', onSignal!);
    process.removeListener('SIGTERM', onSignal!);
    process.removeListener('SIGINT', ignore);
    process.removeListener('SIGTERM', ignore);
  }
  return outcome.kind === 'failed' ? 1 : 0;
}
