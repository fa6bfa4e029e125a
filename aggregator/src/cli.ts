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
  passant-aggregator --help`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
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
      const { homeAssistantCommand } = await import('./interop/home-assistant.ts');
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
