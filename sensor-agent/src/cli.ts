/**
 * `passant-sensor` command line:
 *   passant-sensor run              run the agent (source from config: simulator, live Wi-Fi, live BLE, files)
 *   passant-sensor count FILE...    count capture files without a broker, one counts message per window on stdout
 * Returns the exit code.
 */
const USAGE = `usage:
  passant-sensor run [--config FILE]
  passant-sensor count [--sensor-id ID] [--window SECONDS] [--rssi-floor DBM] FILE...
  passant-sensor --help`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'run' && (rest.includes('--help') || rest.includes('-h'))) return (process.stdout.write(USAGE + '\n'), 0);
  switch (command) {
    case 'run':
    case undefined: {
      const { runAgentCommand } = await import('./main.ts');
      return runAgentCommand(rest);
    }
    case 'count': {
      const { countCommand } = await import('./count.ts');
      return countCommand(rest);
    }
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return 0;
    default:
      process.stderr.write(`passant-sensor: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
      return 2;
  }
}
