/**
 * `passant-aggregator home-assistant`: the command line of the Home Assistant bridge (home-assistant.ts): its
 * options, the secrets read from the environment or files, and running the bridge until a signal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { RADIOS, type Radio } from '@passant/shared';
import { parseCommandLine, readError, readSecrets, usageError, type CommandSpec } from '../command-line.ts';
import { createLogger } from '../logger.ts';
import { HomeAssistantBridge } from './home-assistant.ts';

export const HOME_ASSISTANT_USAGE = `usage: passant-aggregator home-assistant --api URL --mqtt URL [options]
  --api URL                 the aggregator's HTTP API (base URL, e.g. http://host:8080); the API token from
                            PASSANT_HA_TOKEN or --token-file FILE (none: the public zones only)
  --mqtt URL                Home Assistant's broker (mqtt:// or mqtts://)
  --mqtt-username NAME      broker login; its password from PASSANT_HA_MQTT_PASSWORD or --mqtt-password-file FILE
  --ca-file FILE            CA of the broker's certificate (mqtts://)
  --discovery-prefix P      Home Assistant's discovery prefix (default homeassistant)
  --topic-prefix P          where states and availability go (default passant/home-assistant)
  --node-id ID              names this bridge in ids and topics (default passant)
  --radio wifi|ble          a radio to publish, repeatable (default wifi)
  --expire-after SECONDS    a sensor without a new minute this long shows as unavailable (default 300)
  --log-level LEVEL         (default info)`;

const HOME_ASSISTANT_COMMAND: CommandSpec = {
  command: 'home-assistant',
  usage: HOME_ASSISTANT_USAGE,
  options: {
    api: { type: 'string' },
    mqtt: { type: 'string' },
    'mqtt-username': { type: 'string' },
    'ca-file': { type: 'string' },
    'discovery-prefix': { type: 'string', default: 'homeassistant' },
    'topic-prefix': { type: 'string', default: 'passant/home-assistant' },
    'node-id': { type: 'string', default: 'passant' },
    radio: { type: 'string', multiple: true },
    'expire-after': { type: 'string', default: '300' },
    'log-level': { type: 'string', default: 'info' },
  },
  secrets: [
    { name: 'token', env: 'PASSANT_HA_TOKEN' },
    { name: 'mqtt-password', env: 'PASSANT_HA_MQTT_PASSWORD' },
  ],
};

/** `passant-aggregator home-assistant`: runs the bridge until SIGINT/SIGTERM (exit 0) or a refused token (exit 1). */
export async function homeAssistantCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const fail = (message: string): number => usageError(HOME_ASSISTANT_COMMAND, message);
  const values = parseCommandLine(HOME_ASSISTANT_COMMAND, args);
  if (typeof values === 'number') return values;
  const str = (k: string) => values[k] as string | undefined;
  const api = str('api');
  const mqttUrl = str('mqtt');
  if (!api || !mqttUrl) return fail('--api and --mqtt are required');
  if (!/^https?:\/\//.test(api)) return fail(`--api ${JSON.stringify(api)} must be an http:// or https:// URL`);
  if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(mqttUrl)) return fail(`--mqtt must be an mqtt:// or mqtts:// URL`);
  const secrets = readSecrets(HOME_ASSISTANT_COMMAND, values, env);
  if (typeof secrets === 'number') return secrets;
  const { token, 'mqtt-password': password } = secrets;
  let ca: Buffer | undefined;
  try {
    if (str('ca-file')) ca = fs.readFileSync(str('ca-file')!);
  } catch (err) {
    return fail(`cannot read --ca-file ${str('ca-file')}: ${readError(err)}`);
  }
  const radios = (values.radio as string[] | undefined) ?? ['wifi'];
  const bad = radios.find((r) => !RADIOS.includes(r as Radio));
  if (bad !== undefined) return fail(`--radio ${JSON.stringify(bad)}: wifi or ble`);
  const expireAfterSeconds = Number(str('expire-after'));
  if (!Number.isInteger(expireAfterSeconds) || expireAfterSeconds < 60 || expireAfterSeconds > 86_400) return fail('--expire-after must be 60..86400 seconds');

  let logger: Logger;
  try {
    logger = createLogger(str('log-level')!);
  } catch (err) {
    return fail((err as Error).message);
  }
  let bridge: HomeAssistantBridge;
  try {
    bridge = new HomeAssistantBridge({
      apiUrl: api,
      ...(token ? { token } : {}),
      mqttUrl,
      mqttOptions: {
        ...(str('mqtt-username') ? { username: str('mqtt-username')! } : {}),
        ...(password ? { password } : {}),
        ...(ca ? { ca } : {}),
      },
      discoveryPrefix: str('discovery-prefix')!,
      topicPrefix: str('topic-prefix')!,
      nodeId: str('node-id')!,
      radios: radios as Radio[],
      expireAfterSeconds,
      ...(packageVersion() ? { version: packageVersion()! } : {}),
      logger,
    });
  } catch (err) {
    return fail((err as Error).message);
  }
  if (!token) logger.info('home assistant bridge: no token given, the public zones only');
  bridge.start();
  const onSignal = (signal: string) => {
    logger.info({ signal }, 'signal received');
    void bridge.stop();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const fatal = await bridge.finished();
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  if (fatal) {
    process.stderr.write(`passant-aggregator home-assistant: ${fatal.message}\n`);
    return 1;
  }
  return 0;
}

/** The aggregator package's version, for the discovery's origin and device (none when it cannot be read). */
function packageVersion(): string | undefined {
  try {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
