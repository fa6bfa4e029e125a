/**
 * `passant-aggregator run`: the only place that reads the environment. Validates the configuration (every
 * problem listed, exit 1 before anything connects), starts the aggregator, stops it in order on SIGINT/SIGTERM.
 */
import { startAggregator } from './aggregator.ts';
import { loadConfig } from './config.ts';
import { ConfigError } from './errors.ts';

const RUN_USAGE = 'usage: passant-aggregator run [--config FILE]';

/** `--config FILE` overrides PASSANT_CONFIG. Returns null (after printing why) on a bad argument. */
function parseRunArgs(args: string[]): { configFile?: string } | null {
  const out: { configFile?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--config' && args[i + 1] !== undefined) out.configFile = args[++i]!;
    else if (arg.startsWith('--config=')) out.configFile = arg.slice('--config='.length);
    else {
      process.stderr.write(`passant-aggregator: unknown argument ${JSON.stringify(arg)}\n${RUN_USAGE}\n`);
      return null;
    }
  }
  return out;
}

export async function runAggregatorCommand(args: string[]): Promise<number> {
  const parsed = parseRunArgs(args);
  if (parsed === null) return 2;
  let config;
  try {
    config = loadConfig(parsed.configFile !== undefined ? { configFile: parsed.configFile } : {});
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`passant-aggregator: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let aggregator;
  try {
    // The config file is watched: zones and sites reload without a restart.
    const configFile = parsed.configFile ?? (process.env.PASSANT_CONFIG?.trim() || undefined);
    aggregator = await startAggregator(config, configFile !== undefined ? { configFile } : {});
  } catch (err) {
    process.stderr.write(`passant-aggregator: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  const running = aggregator;
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      running.logger.info({ signal }, 'signal received');
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      void running.close().then(resolve);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  return 0;
}

/** `passant-aggregator check-config`: validates the configuration and prints every problem. */
export function checkConfigCommand(args: string[]): number {
  const parsed = parseRunArgs(args);
  if (parsed === null) return 2;
  try {
    loadConfig(parsed.configFile !== undefined ? { configFile: parsed.configFile } : {});
    process.stdout.write('configuration is valid\n');
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`passant-aggregator: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
