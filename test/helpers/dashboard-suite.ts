/**
 * The dashboard for a block of browser tests (vitest only: it registers the block's hooks): the stack and
 * Chromium started before the block's tests and closed after them, and the town most of those tests show.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startDashboard, type Dashboard, type TokenInput } from './dashboard-page.ts';
import { TOWN, type Stack, type StackOptions } from './stack.ts';

/**
 * The town (TOWN: Winkelstraat and Markt in the site Centrum) at k = 2, low so that even a quiet hour draws a line,
 * with three hours of history (`backfillHours`), too short for a sensor's static baseline: the baseline is off.
 */
export function townStack(options: { backfillHours?: number; overrides?: Record<string, unknown> } = {}): StackOptions {
  return { k: 2, backfillHours: options.backfillHours ?? 3, ...TOWN, overrides: { baseline: { enabled: false }, ...options.overrides } };
}

export interface SuiteDashboard {
  readonly stack: Stack;
  readonly browser: Browser;
  /** Makes a token in the running aggregator's own token store; returns its secret. */
  token(input: TokenInput): string;
}

/**
 * Call in a describe block: starts the dashboard with `options` before the block's tests (and before the block's
 * own beforeAll hooks declared after this call), closes it after them. Its fields are read inside tests and hooks.
 */
export function dashboardForSuite(options: StackOptions): SuiteDashboard {
  let started: Dashboard | undefined;
  const get = (): Dashboard => {
    if (started === undefined) throw new Error('the dashboard is not started: read it inside a test or a hook');
    return started;
  };
  beforeAll(async () => {
    started = await startDashboard(options);
  });
  afterAll(async () => {
    await started?.close();
  });
  return {
    get stack() {
      return get().stack;
    },
    get browser() {
      return get().browser;
    },
    token: (input) => get().token(input),
  };
}
