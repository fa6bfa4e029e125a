/**
 * `passant-aggregator` command line:
 *   passant-aggregator [run] [--config FILE]     run the aggregator (config from PASSANT_CONFIG and PASSANT_* variables)
 *   passant-aggregator check-config [--config FILE]   validate the configuration, list every problem
 *   passant-aggregator config-reference          print every config key (key, env, default, description) as Markdown
 *   passant-aggregator token create|list|revoke  manage API tokens (auth/token-command.ts)
 *   passant-aggregator kit --out DIR [--lang nl|en]   write the transparency kit (kit/kit-command.ts)
 *   passant-aggregator audit --mqtt-url URL --api URL ...   a privacy officer's check of a live deployment (audit/)
 *   passant-aggregator calibration add|list ...  manual counts for people estimates (estimate/calibration-command.ts)
 *   passant-aggregator home-assistant --api URL --mqtt URL ...   the Home Assistant bridge (interop/home-assistant.ts)
 * `--help` (or `-h`) after any command prints that command's usage and exits 0, as does `help COMMAND`.
 * Returns the exit code.
 */
const USAGE = `usage:
  passant-aggregator [run] [--config FILE]
  passant-aggregator check-config [--config FILE]
  passant-aggregator config-reference
  passant-aggregator token create --role viewer|admin|privacy [--zone ZONE...] [--site SITE...] [--owner LABEL...] [--name NAME] [--json]
  passant-aggregator token list [--json]
  passant-aggregator token revoke ID
  passant-aggregator kit [--config FILE] --out DIR [--lang nl|en]
  passant-aggregator audit --mqtt-url URL --api URL [--config FILE] [--listen S] [--build-hash H...] [--out DIR] (audit --help)
  passant-aggregator calibration add|list --zone ZONE ... (calibration --help)
  passant-aggregator home-assistant --api URL --mqtt URL [--token-file F] ... (home-assistant --help)
  passant-aggregator [COMMAND] --help`;

/** The usage of each command, for `COMMAND --help`; those of the larger commands live with them. */
async function usageOf(command: string): Promise<string | undefined> {
  switch (command) {
    case 'run':
      return 'usage: passant-aggregator run [--config FILE]\n  run the aggregator (configuration from --config, PASSANT_CONFIG and PASSANT_* variables)';
    case 'check-config':
      return 'usage: passant-aggregator check-config [--config FILE]\n  validate the configuration and list every problem (exit 1 when there is one)';
    case 'config-reference':
      return 'usage: passant-aggregator config-reference\n  print every configuration key (key, environment variable, default, description) as Markdown';
    case 'token':
      return (await import('./auth/token-command.ts')).TOKEN_USAGE;
    case 'kit':
      return 'usage: passant-aggregator kit [--config FILE] --out DIR [--lang nl|en]\n  write the transparency kit (processing register, DPIA, sign, sensor register) into DIR';
    case 'calibration':
      return (await import('./estimate/calibration-command.ts')).CALIBRATION_USAGE;
    case 'audit':
      return (await import('./audit/audit-command.ts')).AUDIT_USAGE;
    case 'home-assistant':
      return (await import('./interop/home-assistant-command.ts')).HOME_ASSISTANT_USAGE;
    default:
      return undefined;
  }
}

/** Whether the arguments ask for help (before a `--`, after which everything is a value). */
function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && (asksForHelp(rest) || (command === 'help' && rest.length > 0))) {
    const usage = await usageOf(command === 'help' ? rest[0]! : command);
    if (usage !== undefined) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
  }
  switch (command) {
    case undefined:
    case 'run': {
      const { runAggregatorCommand } = await import('./main.ts');
      return runAggregatorCommand(rest);
    }
    case 'check-config': {
      const { checkConfigCommand } = await import('./main.ts');
      return checkConfigCommand(rest);
    }
    case 'config-reference': {
      const { configMarkdownTable } = await import('./config.ts');
      process.stdout.write(`${configMarkdownTable()}\n`);
      return 0;
    }
    case 'token': {
      const { tokenCommand } = await import('./auth/token-command.ts');
      return tokenCommand(rest);
    }
    case 'kit': {
      const { kitCommand } = await import('./kit/kit-command.ts');
      return kitCommand(rest);
    }
    case 'calibration': {
      const { calibrationCommand } = await import('./estimate/calibration-command.ts');
      return calibrationCommand(rest);
    }
    case 'audit': {
      const { auditCommand } = await import('./audit/audit-command.ts');
      return auditCommand(rest);
    }
    case 'home-assistant': {
      const { homeAssistantCommand } = await import('./interop/home-assistant-command.ts');
      return homeAssistantCommand(rest);
    }
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      if (command.startsWith('--')) {
        const { runAggregatorCommand } = await import('./main.ts');
        return runAggregatorCommand(argv);
      }
      process.stderr.write(`passant-aggregator: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
      return 2;
  }
}
