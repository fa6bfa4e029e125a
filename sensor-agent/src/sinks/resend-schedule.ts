/**
 * When the publisher sends a counts message again (see mqtt-publisher.ts): the messages the broker acknowledged
 * (PUBACK) and no aggregator reported stored yet, each with its next re-send time, and the one timer that wakes
 * the publisher for the earliest of them.
 *
 * A message waits `retryInitialMs` after its PUBACK, twice as long after each further try, at most `retryMaxMs`.
 * Until an aggregator has reported stored a message the broker took after it (evidence that this one was lost,
 * not waiting in the broker's queue for an aggregator that is away), it is not sent again before `retryMaxMs`.
 */

/** When a message the broker took but no aggregator reported stored is sent again. */
export interface DeliverySettings {
  /** First wait after the PUBACK, ms. */
  retryInitialMs: number;
  /** The wait doubles with every try up to this, ms. */
  retryMaxMs: number;
}

export const DEFAULT_DELIVERY: DeliverySettings = { retryInitialMs: 60_000, retryMaxMs: 3_600_000 };

interface Awaiting {
  /** End of its wait (ms since the epoch). */
  due: number;
  /** Which try the broker acknowledged. */
  tries: number;
  /** Which PUBACK it was (counted): the rows the broker took before it have a lower one. */
  order: number;
  /** When the broker acknowledged it (ms since the epoch). */
  sentAt: number;
}

export class ResendSchedule {
  readonly #delivery: DeliverySettings;
  /** Whether the timer may be set (false once the publisher is closing). */
  readonly #active: () => boolean;
  /** The timer fired at `now`: re-send what is due then (then the timer is set for the next after `now`). */
  readonly #onWake: (now: number) => void;
  /** Outbox ids the broker acknowledged and no aggregator reported stored, in the order of their PUBACK. */
  readonly #awaiting = new Map<number, Awaiting>();
  /** Counts PUBACKs: a row's `order` says which rows the broker took before it. */
  #pubackOrder = 0;
  /** The highest `order` among rows reported stored: the aggregator has worked past everything sent before it. */
  #storedOrder = 0;
  #timer: NodeJS.Timeout | null = null;
  /** When the timer fires (ms since the epoch); Infinity when it is not set. */
  #at = Infinity;

  constructor(delivery: DeliverySettings, active: () => boolean, onWake: (now: number) => void) {
    this.#delivery = delivery;
    this.#active = active;
    this.#onWake = onWake;
  }

  /** Messages waiting for their stored report. */
  get size(): number {
    return this.#awaiting.size;
  }

  has(id: number): boolean {
    return this.#awaiting.has(id);
  }

  /** The broker acknowledged outbox row `id`, sent for the `tries`-th time: it now waits for its stored report. */
  acknowledged(id: number, tries: number): void {
    const wait = Math.min(this.#delivery.retryMaxMs, this.#delivery.retryInitialMs * 2 ** Math.min(tries - 1, 30));
    const now = Date.now();
    const a = { due: now + wait, tries, order: ++this.#pubackOrder, sentAt: now };
    this.#awaiting.set(id, a);
    this.#arm(this.#resendAt(a));
  }

  /**
   * An aggregator reported these outbox rows stored: they wait for nothing any more, and the report may bring the
   * re-sends of those the broker took before them forward, or leave nothing to wait for.
   */
  stored(ids: number[]): void {
    for (const id of ids) {
      const a = this.#awaiting.get(id);
      if (a !== undefined && a.order > this.#storedOrder) this.#storedOrder = a.order;
      this.#awaiting.delete(id);
    }
    this.reschedule();
  }

  /** Rows the outbox's bound dropped (ids below `oldestId`) wait for nothing any more. */
  forgetBefore(oldestId: number): void {
    for (const id of this.#awaiting.keys()) if (id < oldestId) this.#awaiting.delete(id);
  }

  /**
   * Hands over, in queue order and while `room()` says so, the messages whose wait is over at `now` and that look
   * lost (see the top of this file): each leaves the schedule and goes to `resend` with the try it was.
   */
  takeDue(room: () => boolean, resend: (id: number, tries: number) => void, now = Date.now()): void {
    for (const [id, a] of this.#awaiting) {
      if (!room()) break;
      if (a.due > now || (a.order > this.#storedOrder && now - a.sentAt < this.#delivery.retryMaxMs)) continue;
      this.#awaiting.delete(id);
      resend(id, a.tries);
    }
  }

  /**
   * Sets the timer to the earliest re-send later than `after` among the waiting messages (a full look at them:
   * after the timer fired, and when a stored report may have brought re-sends forward). None while nothing waits:
   * a sensor whose aggregator is away sleeps until a re-send is due instead of looking every second. Re-sends due
   * now that could not go (not connected, `maxInFlight` reached) are left out: the next connect or PUBACK sends
   * them.
   */
  reschedule(after = -Infinity): void {
    let next = Infinity;
    for (const a of this.#awaiting.values()) {
      const at = this.#resendAt(a);
      if (at > after && at < next) next = at;
    }
    this.clearTimer();
    this.#arm(next);
  }

  clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#at = Infinity;
  }

  /**
   * When a waiting message becomes due for a re-send as things stand: after its wait, and, until an aggregator
   * has reported stored something the broker took after it, not before `retryMaxMs`.
   */
  #resendAt(a: Awaiting): number {
    return a.order > this.#storedOrder ? Math.max(a.due, a.sentAt + this.#delivery.retryMaxMs) : a.due;
  }

  /** Moves the timer forward to `at` (ms since the epoch) when it is set later or not at all. */
  #arm(at: number): void {
    if (!this.#active() || at === Infinity || (this.#timer !== null && this.#at <= at)) return;
    this.clearTimer();
    this.#at = at;
    // setTimeout takes at most 2^31 - 1 ms; a later re-send is looked at again then.
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#at = Infinity;
      // One time for both steps: what was not due at `now` is set again. Read twice, the clock could pass a re-send
      // between them (a timer may fire a millisecond early by the wall clock), and that one would wait for nothing.
      const now = Date.now();
      this.#onWake(now);
      this.reschedule(now);
    }, Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1));
    this.#timer.unref();
  }
}
