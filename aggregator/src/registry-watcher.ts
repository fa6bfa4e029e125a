/**
 * Reloads zones, sites and what is public (auth.public) when the config file changes, without a restart. The folder of the file is watched
 * (editors often replace a file by renaming a new one over it, which a watch on the file itself would miss),
 * changes are debounced, and the new file is validated in full, exactly as at start-up (loadConfig). When it
 * has problems, every one is logged and the running registry stays as it is; so does a file with no zones. Settings other than zones,
 * sites and auth.public need a restart: a change to them is logged, not applied.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from './config.ts';
import type { AggregatorConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import type { Registry, RegistryChange } from './registry.ts';

export interface RegistryWatcherOptions {
  /** The config file (PASSANT_CONFIG or --config). */
  file: string;
  registry: Registry;
  logger: Logger;
  /** The configuration the aggregator runs with, to tell which other settings changed. */
  running: AggregatorConfig;
  /** Environment the file is merged with, as at start (default process.env). */
  env?: Record<string, string | undefined>;
  /** Quiet time after the last file event before the file is read. */
  debounceMs?: number;
  /** Also poll the file this often (file systems without inotify events, such as some network mounts); 0: no polling. */
  pollIntervalMs?: number;
}

/** Outcome of one reload, for listeners and tests. */
export type ReloadResult =
  | { ok: true; change: RegistryChange | null; restartNeeded: string[] }
  | { ok: false; problems: string[] };

export class RegistryWatcher {
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastText: string | undefined;
  private closed = false;
  private readonly listeners = new Set<(result: ReloadResult) => void>();
  private reloading: Promise<void> = Promise.resolve();
  private readonly debounceMs: number;
  private readonly pollIntervalMs: number;

  constructor(private readonly options: RegistryWatcherOptions) {
    this.debounceMs = options.debounceMs ?? 300;
    this.pollIntervalMs = options.pollIntervalMs ?? 5000;
  }

  /** Starts watching. The file's current content counts as loaded. */
  start(): void {
    const file = path.resolve(this.options.file);
    this.lastText = readText(file);
    const dir = path.dirname(file);
    const base = path.basename(file);
    try {
      this.watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || name === base) this.schedule();
      });
      this.watcher.on('error', (err) => this.options.logger.warn({ err }, 'config watch failed; polling only'));
    } catch (err) {
      this.options.logger.warn({ err, dir }, 'cannot watch the config folder; polling only');
    }
    if (this.pollIntervalMs > 0) fs.watchFile(file, { interval: this.pollIntervalMs, persistent: false }, () => this.schedule());
    this.options.logger.info({ file }, 'watching the config file: zones and sites reload on change');
  }

  /** Calls `listener` after each reload attempt. Returns the function that removes it. */
  onReload(listener: (result: ReloadResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    fs.unwatchFile(path.resolve(this.options.file));
    await this.reloading;
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      // A failed reload is logged and the chain goes on: an unhandled rejection would end the process, and
      // every later reload would be skipped.
      this.reloading = this.reloading
        .then(() => this.reloadIfChanged())
        .catch((err: unknown) => this.options.logger.error({ err }, 'config reload failed; the registry is unchanged'));
    }, this.debounceMs);
    this.timer.unref();
  }

  private async reloadIfChanged(): Promise<void> {
    if (this.closed) return;
    const text = readText(path.resolve(this.options.file));
    if (text === this.lastText) return;
    this.lastText = text;
    const result = this.reload();
    for (const listener of this.listeners) listener(result);
  }

  /** Reads, validates and applies the file now. */
  reload(): ReloadResult {
    const { logger, registry, running } = this.options;
    let config: AggregatorConfig;
    try {
      config = loadConfig({ configFile: this.options.file, env: this.options.env ?? process.env });
    } catch (err) {
      const problems = err instanceof ConfigError ? err.lines() : [(err as Error).message];
      for (const problem of problems) logger.error({ problem }, 'config file changed but is invalid; zones and sites stay as they were');
      return { ok: false, problems };
    }
    // A file with no zones (empty, truncated, or half written by a tool that does not rename) would make every
    // zone disappear from the API and the release layer until it is written again: refused like any bad edit.
    // Zones are removed one by one, by a file that still lists the others; to stop counting, stop the aggregator.
    if (config.zones.length === 0) {
      const problem = 'zones: the file lists no zones (empty or incomplete?); a running aggregator keeps its zones';
      logger.error({ problem }, 'config file changed but is invalid; zones and sites stay as they were');
      return { ok: false, problems: [problem] };
    }
    const change = registry.update(config.zones, config.sites, config.auth.public);
    // auth.public is applied live with the zones (a zone made private stops being public at once); the rest of
    // auth (the tokens file) needs a restart.
    const comparable = (c: AggregatorConfig, key: string): unknown =>
      key === 'auth' ? { ...c.auth, public: undefined } : c[key as keyof AggregatorConfig];
    const restartNeeded = Object.keys(config).filter(
      (key) => key !== 'zones' && key !== 'sites' && JSON.stringify(comparable(config, key)) !== JSON.stringify(comparable(running, key)),
    );
    if (restartNeeded.length > 0) logger.warn({ sections: restartNeeded }, 'config file changed settings that apply only after a restart');
    if (change === null) logger.info('config file reloaded: zones and sites unchanged');
    else {
      logger.info(
        {
          zonesAdded: change.zonesAdded,
          zonesRemoved: change.zonesRemoved,
          zonesChanged: change.zonesChanged,
          sitesChanged: change.sitesChanged,
          publicAccessChanged: change.publicAccessChanged,
          sensorsAssigned: change.sensorsAssigned.length,
          sensorsUnassigned: change.sensorsUnassigned.length,
        },
        'config file reloaded: registry updated',
      );
    }
    return { ok: true, change, restartNeeded };
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
