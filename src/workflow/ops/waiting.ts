/**
 * The machinery of one await (`ops/await.ts` says what a step or a DAG await judges): an object that
 * is at once the waiter of the process's shared watch, the member of its signal's abort group and
 * the poll of the process's timer wheel, so an outstanding await holds that object, its promise and
 * its entries in those three sets — no closures, no timer of its own (issue 14: ≤ 2 KiB each). A
 * timeout, when asked for, is one timer.
 *
 * The life of a wait: optionally read first (a DAG await, so an ended DAG never opens the watch);
 * register with the shared watch; read once the watch is established (so nothing written afterwards
 * is missed); then settle on the first change, poll, timeout or abort that decides. A read that
 * fails because the server cannot be reached (`timeout`, `unavailable`: a restart, a lost quorum)
 * is read again within a second, and counts against nothing but the caller's own timeout, whose
 * message then names the last error; any other read error ends the wait with it. Every read is
 * followed by the next poll, `pollMs` later; after the watch was down, the wait reads again at once.
 * @module
 */
import type { KvEntry } from "../../broker/port.js";
import { EbindError } from "../../task/errors.js";
import type { WorkflowCore } from "../store/core.js";
import type { Polled } from "../store/poll-wheel.js";
import type { KeyWaiter, SharedWatch } from "../store/shared-watch.js";
import { joinAbort, leaveAbort, type AbortMember } from "./abort-group.js";

/** What a judgement found: a value or an Error ends the wait; undefined waits on. */
export type Verdict<V> = V | Error | undefined;

/** A wait's settings, checked by the caller. */
export interface WaitSettings {
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number | undefined;
  /** The backstop's period, in ms. */
  readonly pollMs: number;
}

/** Flags of {@link Waiting}'s state. */
const ENDED = 1;
/** A read is in flight. */
const READING = 2;
/** How soon a read that failed on an unreachable server is tried again, ms (at most `pollMs`). */
const RETRY_READ_MS = 1000;

/** Whether a read failed only because the server could not answer now (an outage, a lost quorum). */
function transient(err: unknown): boolean {
  return err instanceof EbindError && (err.code === "timeout" || err.code === "unavailable");
}
/** Read again as soon as the read in flight returns (the watch came back meanwhile). */
const READ_AGAIN = 4;

/** One outstanding wait for a value of type `V`, on one key of a shared watch. */
export abstract class Waiting<V> implements KeyWaiter, AbortMember, Polled {
  /** @internal The timer wheel's bookkeeping. */
  wheelSlot = -1;
  #state = 0;
  #resolve: ((value: unknown) => void) | undefined = undefined;
  #reject: ((reason: unknown) => void) | undefined = undefined;
  #deadline: NodeJS.Timeout | undefined = undefined;
  /** The last read's error while the server was unreachable, for the timeout's message. */
  #lastError: Error | undefined = undefined;
  protected readonly signal: AbortSignal | undefined;
  protected readonly pollMs: number;

  /**
   * @param core the workflow's shared context (its watches and timer wheel).
   * @param watch the shared watch that reports `key`.
   * @param key the KV key waited on.
   */
  constructor(
    protected readonly core: WorkflowCore,
    private readonly watch: SharedWatch,
    private readonly key: string,
    settings: WaitSettings,
  ) {
    this.signal = settings.signal;
    this.pollMs = settings.pollMs;
  }

  /** Judges one change of the key (`undefined` for a delete or purge). May throw (the polls read again). */
  protected abstract judge(value: Uint8Array | undefined): Verdict<V> | Promise<Verdict<V>>;
  /** Reads the records afresh: once the watch is established, then at each poll, and at the timeout. */
  protected abstract reread(): Promise<Verdict<V>>;
  /** What did not happen, for the timeout's message (`no result for d/s`). */
  protected abstract missed(): string;
  /** What the caller gets for the value that ended the wait. May throw, or return a promise. */
  protected output(value: V): unknown {
    return value;
  }

  /**
   * Starts the wait; the promise settles with its {@link output}, or rejects with the judged error,
   * the signal's reason, or `EbindError` `timeout`.
   * @param readFirst read the records before registering with the watch (an error other than an
   *   unreachable server then rejects).
   */
  start(timeoutMs: number | undefined, readFirst: boolean): Promise<unknown> {
    const promise = new Promise<unknown>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const signal = this.signal;
    if (signal?.aborted) {
      this.onAbort(signal.reason);
      return promise;
    }
    if (signal !== undefined) joinAbort(signal, this);
    if (timeoutMs !== undefined) this.#deadline = setTimeout(Waiting.#timedOut, timeoutMs, this, timeoutMs);
    if (!readFirst) this.#watch();
    else {
      this.reread().then(
        (verdict) => {
          this.#settle(verdict);
          if (!(this.#state & ENDED)) this.#watch();
        },
        (err: unknown) => {
          if (!transient(err)) return this.#fail(err);
          this.#lastError = err as Error;
          this.#watch();
        },
      );
    }
    return promise;
  }

  /** @internal A change of the key, from the shared watch. */
  onEntry(entry: KvEntry): void {
    if (this.#state & ENDED) return;
    try {
      const verdict = this.judge(entry.operation === "PUT" ? entry.value : undefined);
      if (verdict instanceof Promise) verdict.then((v: Verdict<V>) => this.#settle(v), ignore);
      else this.#settle(verdict);
    } catch {
      // a record another writer broke: the polls read it again
    }
  }

  /** @internal The shared watch is back after a failure: read again now. */
  onReopen(): void {
    if (this.#state & READING) this.#state |= READ_AGAIN;
    else this.#read();
  }

  /** @internal The signal aborted. */
  onAbort(reason: unknown): void {
    this.#fail(reason ?? new Error("aborted"));
  }

  /** @internal The timer wheel's call: the backstop's read. */
  poll(): void {
    this.#read();
  }

  #watch(): void {
    this.watch.add(this.key, this).then(
      () => this.#read(),
      (err: unknown) => {
        this.watch.remove(this.key, this);
        this.core.logger.debug({ key: this.key, error: (err as Error).message }, "workflow: the awaits' watch could not be opened; the polls go on");
        this.#read();
      },
    );
  }

  #read(): void {
    if (this.#state & (ENDED | READING)) return;
    this.#state = (this.#state | READING) & ~READ_AGAIN;
    this.reread().then(
      (verdict) => {
        this.#lastError = undefined;
        this.#afterRead(verdict, this.pollMs);
      },
      (err: unknown) => {
        // Unreachable: soon again. Anything else (a record another writer broke): at the next poll.
        if (transient(err)) this.#lastError = err as Error;
        this.#afterRead(undefined, transient(err) ? Math.min(this.pollMs, RETRY_READ_MS) : this.pollMs);
      },
    );
  }

  #afterRead(verdict: Verdict<V>, nextMs: number): void {
    this.#state &= ~READING;
    this.#settle(verdict);
    if (this.#state & ENDED) return;
    if (this.#state & READ_AGAIN) this.#read();
    else this.core.awaits.polls.schedule(this, nextMs);
  }

  #settle(verdict: Verdict<V>): void {
    if (verdict === undefined || this.#state & ENDED) return;
    const { resolve, reject } = this.#end();
    if (verdict instanceof Error) return reject(verdict);
    try {
      resolve(this.output(verdict));
    } catch (err) {
      reject(err);
    }
  }

  #fail(reason: unknown): void {
    if (this.#state & ENDED) return;
    this.#end().reject(reason);
  }

  /** Ends the wait: leaves the watch, the wheel and the abort group; returns the promise's functions. */
  #end(): { resolve: (value: unknown) => void; reject: (reason: unknown) => void } {
    this.#state |= ENDED;
    const ends = { resolve: this.#resolve!, reject: this.#reject! };
    this.#resolve = this.#reject = undefined;
    this.watch.remove(this.key, this);
    this.core.awaits.polls.cancel(this);
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    if (this.signal !== undefined) leaveAbort(this.signal, this);
    return ends;
  }

  static #timedOut(this: void, wait: Waiting<unknown>, timeoutMs: number): void {
    // One last read: what was written just now still counts.
    wait
      .reread()
      .catch(ignore)
      .then((verdict) => {
        wait.#settle(verdict);
        const last = wait.#lastError === undefined ? "" : ` (the server was unreachable: ${wait.#lastError.message})`;
        wait.#fail(new EbindError("timeout", `workflow: ${wait.missed()} within ${timeoutMs} ms${last}`));
      }, ignore);
  }
}

function ignore(): undefined {
  return undefined;
}
