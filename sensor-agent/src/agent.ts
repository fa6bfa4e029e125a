/**
 * The sensor agent: source -> WindowCounter (keyed hash, per-window key, forget) -> MqttPublisher (outbox, MQTT).
 *
 * `startAgent(config)` wires the parts and returns a handle whose `close()` shuts down in order, each step with
 * a time limit: stop the source, flush the counter (closing the open windows), send the outbox, publish
 * `offline`, disconnect, close the outbox.
 *
 * Live sources (simulator, Wi-Fi, BLE) run on the wall clock: windows are emitted, even empty, from the one
 * holding the start time, and a 1 s timer closes every window that has ended (plus `latenessMs`). A capture-file
 * source runs on the files' own time: its windows are closed when the files are done, and `done` then resolves.
 *
 * For a demo, the simulator can first backfill past hours (`source.simulator.backfillHours`) through the same
 * counter: `startAgent` returns once those windows are in the outbox; they are sent in the background.
 */
import { withTimeout, type Radio } from '@passant/shared';
import { AGENT_VERSION, sensorBuild } from './build-info.ts';
import { parseSensorConfig, type SensorConfig, type SensorConfigInput } from './config.ts';
import { silentLogger, type Logger } from './log.ts';
import type { Source, SourceSummary } from './pipeline/types.ts';
import { DEFAULT_FILE_MAX_GAP_SECONDS, WindowCounter } from './pipeline/window-counter.ts';
import { MqttPublisher, safeUrl, type PublisherStats } from './sinks/mqtt-publisher.ts';
import { Outbox } from './sinks/outbox.ts';
import { Simulator } from './sources/simulator.ts';

/** The sensor agent's version (its package version, built into the bundle), announced in the status message. */
export { AGENT_VERSION };

export interface AgentDeps {
  /** Root logger (default: silent). main.ts passes one that writes JSON lines to stdout. */
  logger?: Logger;
  /** Replaces the source built from `config.source` (tests). Treated as live unless `config.source.kind` is 'files'. */
  source?: Source;
  /** Wall clock, Unix ms (default Date.now). */
  now?: () => number;
}

export interface AgentStats {
  /** Windows counted and queued, sent, waiting, dropped (outbox full), refused by the schema; connection. */
  publisher: PublisherStats;
  /** Frames that arrived after their window had closed. */
  lateFrames: number;
  /** Empty windows skipped because they were part of a long gap. */
  skippedEmptyWindows: number;
  /** Frames the simulator's backfill generated. */
  backfillFrames: number;
}

export interface Agent {
  readonly sensorId: string;
  readonly config: SensorConfig;
  /**
   * Settles when the source has ended and its windows are in the outbox: capture files read to the end, or a
   * live source stopped by `close()`. Rejects when the source failed (e.g. the capture tool could not start).
   */
  readonly done: Promise<SourceSummary>;
  stats(): AgentStats;
  /** Waits until everything counted so far is reported stored by an aggregator; true when that happened in time. */
  drain(timeoutMs?: number): Promise<boolean>;
  /** Waits until everything counted so far is with the broker (PUBACK), stored or not; true when in time. */
  sent(timeoutMs?: number): Promise<boolean>;
  /** Resolves when connected to the broker (true) or after `timeoutMs` (false). */
  waitConnected(timeoutMs?: number): Promise<boolean>;
  /** Orderly shutdown (idempotent); never rejects. */
  close(): Promise<void>;
}

/** Which radios a source kind counts (announced in the status). */
export function radiosOf(kind: SensorConfig['source']['kind']): Radio[] {
  if (kind === 'wifi') return ['wifi'];
  if (kind === 'ble') return ['ble'];
  return ['wifi', 'ble'];
}

/**
 * Builds the source named by the config (capture modules are loaded only when used). A file source reports its
 * progress in capture time to `counter`, which closes the windows no frame can reach any more.
 */
export async function createSource(config: SensorConfig, logger: Logger, counter: WindowCounter, now: () => number = Date.now): Promise<Source> {
  const s = config.source;
  switch (s.kind) {
    case 'simulator':
      return new Simulator({
        now,
        scale: s.simulator.scale,
        seed: s.simulator.seed,
        staticDevices: s.simulator.staticDevices,
        rotationMinutes: s.simulator.rotationMinutes,
        utcOffsetHours: s.simulator.utcOffsetHours,
      });
    case 'files': {
      const { FileSource } = await import('./sources/file-source.ts');
      return new FileSource(s.files, { onWatermark: (ms) => counter.advance(ms) });
    }
    case 'wifi': {
      const { LiveWifiSource } = await import('./sources/live-wifi.ts');
      return new LiveWifiSource({
        iface: s.iface,
        ...(s.command !== undefined ? { command: s.command } : {}),
        ...(s.channels.length > 0 ? { channels: s.channels, hopMs: s.hopMs } : {}),
        logger: logger.child({ component: 'live-wifi' }),
      });
    }
    case 'ble': {
      const { LiveBleSource } = await import('./sources/live-ble.ts');
      return new LiveBleSource({
        adapter: s.bleAdapter,
        ...(s.command !== undefined ? { command: s.command } : {}),
        logger: logger.child({ component: 'live-ble' }),
      });
    }
  }
}

/**
 * Starts a sensor agent. `config` may be a full config or a partial one (defaults filled by the schema), e.g.
 * an in-process simulated sensor with two days of history:
 *
 *   const agent = await startAgent({ sensorId: 'demo-1', mqtt: { url }, outbox: { path: ':memory:' },
 *     source: { kind: 'simulator', simulator: { backfillHours: 48 } } });
 *   ...
 *   await agent.close();
 *
 * Throws (before connecting anything) when the config is invalid or the outbox cannot be opened.
 */
export async function startAgent(config: SensorConfigInput | SensorConfig, deps: AgentDeps = {}): Promise<Agent> {
  const cfg = parseSensorConfig(config);
  const now = deps.now ?? Date.now;
  const root = deps.logger ?? silentLogger();
  const log = root.child({ component: 'agent', sensorId: cfg.sensorId });
  const live = cfg.source.kind !== 'files';
  const startedAtMs = now();

  log.info(
    {
      version: AGENT_VERSION,
      source: cfg.source.kind,
      windowSeconds: cfg.windowSeconds,
      rssiFloor: cfg.rssiFloor ?? null,
      broker: safeUrl(cfg.mqtt.url),
      outbox: cfg.outbox.path,
    },
    'agent starting',
  );
  const outbox = Outbox.open({ path: cfg.outbox.path, maxMessages: cfg.outbox.maxMessages, maxBytes: cfg.outbox.maxBytes });

  const publisher = MqttPublisher.start({
    sensorId: cfg.sensorId,
    windowSeconds: cfg.windowSeconds,
    radios: radiosOf(cfg.source.kind),
    mqtt: cfg.mqtt,
    delivery: cfg.delivery,
    sendRssiHistogram: cfg.setupMode,
    outbox,
    logger: root.child({ sensorId: cfg.sensorId }),
    version: AGENT_VERSION,
    build: sensorBuild(),
    startedAt: Math.floor(startedAtMs / 1000),
  });
  const counter = new WindowCounter({
    windowSeconds: cfg.windowSeconds,
    // Unset in the config (undefined); in the counts message it is null (the wire format says "no floor" so).
    rssiFloor: cfg.rssiFloor ?? null,
    sink: publisher,
    latenessMs: live ? cfg.latenessMs : cfg.source.fileLatenessMs,
    // Capture files: a long stretch without frames is skipped, not queued as zero windows (bounded work).
    ...(live ? {} : { maxEmptyWindows: Math.floor(DEFAULT_FILE_MAX_GAP_SECONDS / cfg.windowSeconds), holdTrailingEmpty: true }),
  });
  let source: Source;
  try {
    source = deps.source ?? (await createSource(cfg, root, counter, now));
  } catch (err) {
    await publisher.close(cfg.shutdownStepTimeoutMs).catch(() => undefined);
    outbox.close();
    throw err;
  }

  if (outbox.size > 0) log.info({ queued: outbox.size, nextSeq: outbox.nextSeq }, 'outbox holds counts from an earlier run; sending them first');

  let backfillFrames = 0;
  if (live) {
    const backfillHours = cfg.source.kind === 'simulator' ? cfg.source.simulator.backfillHours : 0;
    // A restart does not count again what an earlier run queued: the backfill resumes after its newest window.
    const resumeMs = outbox.lastWindowStart === null ? -Infinity : (outbox.lastWindowStart + cfg.windowSeconds) * 1000;
    const fromMs = Math.max(startedAtMs - backfillHours * 3_600_000, resumeMs);
    if (backfillHours > 0 && source instanceof Simulator && fromMs < startedAtMs) {
      const t0 = performance.now();
      counter.startAt(fromMs);
      backfillFrames = source.backfill(fromMs, startedAtMs, counter);
      // Every frame up to startedAtMs is in: each window that has ended goes out now, lateness or not.
      await counter.closeEndedBy(startedAtMs);
      await publisher.flush();
      log.info({ hours: backfillHours, frames: backfillFrames, ms: Math.round(performance.now() - t0) }, 'simulator backfill done');
    } else {
      counter.startAt(startedAtMs);
    }
  }

  // A sensor past its last active day (config activeUntil) stops counting: its source is closed, which ends `done`
  // (the program then shuts down in order: the last windows are sent, status offline).
  const endMs = cfg.activeUntil === undefined ? Infinity : Date.parse(`${cfg.activeUntil}T00:00:00Z`) + 86_400_000;
  let expired = false;
  const expireIfDue = (): void => {
    if (expired || !live || now() < endMs) return;
    expired = true;
    log.warn({ activeUntil: cfg.activeUntil }, 'activeUntil has passed: this sensor stops counting');
    void source.close().catch((err: unknown) => log.error({ err }, 'stopping the source failed'));
  };

  // Live: close the windows as the clock passes their end.
  let advancing: Promise<void> | null = null;
  const tick = (): void => {
    expireIfDue();
    if (advancing !== null) return;
    // First what the capture holds (a quiet capture is polled only every few seconds), then close what has ended.
    source.readPending?.();
    advancing = counter
      .advance(now())
      .catch((err: unknown) => log.error({ err }, 'closing windows failed'))
      .finally(() => {
        advancing = null;
      });
  };
  // Sleep until the next window is due to close (its end plus the lateness), not a wake-up every second: an idle
  // sensor on a small board should cost next to nothing. An injected clock (tests) may jump: then look every second.
  const windowMs = cfg.windowSeconds * 1000;
  let clock: NodeJS.Timeout | null = null;
  const schedule = (): void => {
    const t = now();
    const due = (Math.floor((t - cfg.latenessMs) / windowMs) + 1) * windowMs + cfg.latenessMs;
    clock = setTimeout(
      () => {
        tick();
        schedule();
      },
      Math.min(Math.max(1, due - t + 5), deps.now !== undefined ? 1000 : 60_000),
    );
  };
  if (live) schedule();
  expireIfDue();

  const stats = (): AgentStats => ({
    publisher: publisher.stats(),
    lateFrames: counter.lateFrames,
    skippedEmptyWindows: counter.skippedEmptyWindows,
    backfillFrames,
  });
  const statsTimer =
    cfg.log.statsIntervalSeconds > 0
      ? setInterval(() => {
          const s = stats();
          log.info(
            {
              windowsQueued: s.publisher.enqueued,
              windowsPublished: s.publisher.published,
              queued: s.publisher.queued,
              dropped: s.publisher.dropped,
              droppedTotal: s.publisher.droppedTotal,
              invalid: s.publisher.invalid,
              lateFrames: s.lateFrames,
              connected: s.publisher.connected,
            },
            'stats',
          );
        }, cfg.log.statsIntervalSeconds * 1000)
      : null;
  statsTimer?.unref();

  // The source runs until it ends (files) or is closed (live).
  const done: Promise<SourceSummary> = source.run(counter).then(
    async (summary) => {
      await counter.flush();
      await publisher.flush();
      log.info({ records: summary.records, detections: summary.detections, warnings: summary.warnings.length }, 'source ended');
      for (const w of summary.warnings.slice(0, 20)) log.warn({ warning: w }, 'source warning');
      return summary;
    },
    (err: unknown) => {
      log.error({ err }, 'source failed');
      throw err;
    },
  );
  // Whoever awaits `done` sees the failure; this keeps an unobserved failure from crashing the process.
  done.catch(() => undefined);

  const step = cfg.shutdownStepTimeoutMs;
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      log.info('agent stopping');
      if (clock !== null) clearTimeout(clock);
      if (statsTimer !== null) clearInterval(statsTimer);
      const guard = async (what: string, p: () => Promise<unknown>): Promise<void> => {
        try {
          await withTimeout(Promise.resolve().then(p), step, what);
        } catch (err) {
          log.warn({ err, step: what }, 'shutdown step failed or timed out');
        }
      };
      await guard('stop source', () => source.close());
      await guard('source end', () => done.catch(() => undefined));
      if (advancing !== null) await guard('close windows', () => advancing!);
      await guard('flush counter', () => counter.flush());
      await guard('commit outbox', () => publisher.flush());
      // Capture files were counted to be sent: give a broker that is not there yet a moment. A live sensor
      // does not wait; its counts stay in the outbox for the next start.
      if (!live && !publisher.connected && publisher.stats().queued > 0) {
        await guard('connect', () => publisher.waitConnected(step));
      }
      // Handed to the broker is enough here: the rows stay in the outbox until an aggregator reports them stored,
      // and the next start sends again whatever it has not.
      if (publisher.connected) {
        await guard('send outbox', async () => {
          if (!(await publisher.sent(step))) throw new Error('not every message reached the broker');
        });
      }
      await guard('disconnect', () => publisher.close(step));
      // Whatever a timed-out step left open is zeroed here: no key or pseudonym outlives the agent.
      counter.destroy();
      const s = publisher.stats();
      outbox.close();
      log.info({ windowsQueued: s.enqueued, windowsPublished: s.published, leftInOutbox: s.queued, dropped: s.dropped }, 'agent stopped');
    })();
    return closing;
  };

  return {
    sensorId: cfg.sensorId,
    config: cfg,
    done,
    stats,
    drain: (timeoutMs = 10_000) => publisher.drain(timeoutMs),
    sent: (timeoutMs = 10_000) => publisher.sent(timeoutMs),
    waitConnected: (timeoutMs = 10_000) => publisher.waitConnected(timeoutMs),
    close,
  };
}
