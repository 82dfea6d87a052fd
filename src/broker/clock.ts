/**
 * Time as a dependency: the memory backend (and anything else that waits) reads the time and sets
 * timers through a {@link Clock}, so tests can move time forward with a {@link ManualClock} instead
 * of sleeping (STYLE 17).
 * @module
 */
import { EbindError } from "../task/errors.js";

/** An opaque handle returned by {@link Clock.setTimer}; pass it to {@link Clock.clearTimer}. */
export interface TimerHandle {
  /** Brand: a handle is only meaningful to the clock that made it. */
  readonly __timerHandle: true;
}

/** A source of time and one-shot timers. All times and durations are milliseconds. */
export interface Clock {
  /** The current time, in ms since the Unix epoch. */
  now(): number;
  /**
   * Calls `fn` once, `ms` from now (negative or NaN counts as 0).
   * @returns a handle for {@link clearTimer}.
   */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer that has not fired yet; a fired, cleared or foreign handle is ignored. */
  clearTimer(handle: TimerHandle): void;
}

/**
 * `clock` if given (checked to have `now`, `setTimer` and `clearTimer`), else {@link systemClock}.
 * @throws EbindError `invalid_argument` naming `path` when the value is not a clock.
 */
export function resolveClock(clock: Clock | undefined, path: string): Clock {
  if (clock === undefined) return systemClock;
  const c = clock as Partial<Clock> | null;
  if (c === null || typeof c !== "object" || typeof c.now !== "function" || typeof c.setTimer !== "function" || typeof c.clearTimer !== "function") {
    throw new EbindError("invalid_argument", `${path} must be a Clock (now, setTimer, clearTimer), got ${c === null ? "null" : typeof c}`);
  }
  return clock;
}

interface SystemTimerHandle extends TimerHandle {
  readonly timeout: ReturnType<typeof setTimeout>;
}

/**
 * The real clock: `Date.now()` and `setTimeout`. Its timers keep the process alive while pending,
 * like an open socket would; whoever sets one clears it when done.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const handle: SystemTimerHandle = { __timerHandle: true, timeout: setTimeout(fn, delayOf(ms)) };
    return handle;
  },
  clearTimer(handle) {
    const timeout = (handle as Partial<SystemTimerHandle>).timeout;
    if (timeout !== undefined) clearTimeout(timeout);
  },
};

interface ManualTimer extends TimerHandle {
  readonly at: number;
  /** Insertion order, so timers due at the same instant fire in the order they were set. */
  readonly order: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when told to, for tests. Timers fire inside {@link advance} (and
 * {@link set}), in time order, each followed by a turn of the event loop so the promise chains they
 * start (an async iterator resuming, a pull ending) run before the next timer fires.
 *
 * @example
 * const clock = new ManualClock();
 * const broker = memoryBroker({ clock });
 * // … nak(2000) a delivery …
 * await clock.advance(1999); // not redelivered yet
 * await clock.advance(1);    // now it is
 */
export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  readonly #timers = new Set<ManualTimer>();

  /** @param startMs the initial time, ms since the epoch. @default 1_700_000_000_000 (a fixed instant, so runs are reproducible) */
  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { __timerHandle: true, at: this.#now + delayOf(ms), order: this.#order++, fn };
    this.#timers.add(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle as ManualTimer);
  }

  /** When the earliest pending timer is due (ms since the epoch), or undefined when none is set. */
  nextDueAt(): number | undefined {
    let at: number | undefined;
    for (const t of this.#timers) if (at === undefined || t.at < at) at = t.at;
    return at;
  }

  /** How many timers are set and have not fired (for tests that check nothing leaks). */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms` (≥ 0), firing every timer due on the way in time order (timers set
   * by those callbacks fire too if they fall due before the end), then lets pending promise chains run.
   * @throws RangeError for a negative or non-finite `ms`.
   */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`ManualClock.advance: ms must be a finite number ≥ 0, got ${ms}`);
    // Calls run one after another, each from where the previous one left time, so they add up.
    await this.#serial(() => this.#runUntil(this.#now + ms));
  }

  /**
   * Moves time to `ms` since the epoch, firing due timers like {@link advance}. Time never goes
   * backwards: an earlier `ms` is refused.
   * @throws RangeError when `ms` is earlier than {@link now}.
   */
  async set(ms: number): Promise<void> {
    await this.#serial(async () => {
      if (!Number.isFinite(ms) || ms < this.#now) throw new RangeError(`ManualClock.set: cannot move time back from ${this.#now} to ${ms}`);
      await this.#runUntil(ms);
    });
  }

  #queue: Promise<void> = Promise.resolve();

  #serial(run: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #runUntil(target: number): Promise<void> {
    for (;;) {
      await yieldToEventLoop();
      const next = this.#nextDue(target);
      if (next === undefined) break;
      this.#timers.delete(next);
      if (next.at > this.#now) this.#now = next.at;
      next.fn();
    }
    this.#now = target;
    await yieldToEventLoop();
  }

  #nextDue(target: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.#timers) {
      if (t.at > target) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.order < best.order)) best = t;
    }
    return best;
  }
}

function delayOf(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** Lets queued microtasks and one round of macrotasks run (three rounds, for chains that hop). */
async function yieldToEventLoop(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
