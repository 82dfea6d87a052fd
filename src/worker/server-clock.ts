/**
 * How far this machine's clock is from the server's (issue 12, clock skew). A relative timeout
 * (`timeoutMs`) travels as an absolute `deadline` written on the producer's clock (reference
 * §2.6.1); comparing it with the worker's clock stretches or shortens it by the skew between the
 * two machines. The worker instead takes the budget the producer meant (`deadline − enqueued_at`,
 * both on the producer's clock), starts it when the server stored the task (the message timestamp,
 * server clock), and converts that instant to its own clock with the offset measured here.
 *
 * The offset is measured by writing a KV key (`ebind-clock`, one key per worker) and reading the
 * server's timestamp of that write: the write happened between the two local readings around it,
 * so the error is at most half the round trip; the best of three samples is kept, and the
 * measurement is repeated every five minutes. When it cannot be measured (no permission for the
 * bucket), the offset is taken as 0 and a warning says so once.
 * @module
 */
import type { Clock, TimerHandle } from "../broker/clock.js";
import type { Logger } from "../broker/logger.js";
import type { Broker } from "../broker/port.js";
import { b64url } from "../task/names.js";

/** The KV bucket of clock probes. */
export const CLOCK_BUCKET = "ebind-clock";
/** How often the offset is measured again. */
const REFRESH_MS = 5 * 60_000;
const SAMPLES = 3;

/** One machine's estimate of the server's clock. */
export class ServerClock {
  #offsetMs = 0;
  #errorMs = Number.POSITIVE_INFINITY;
  #timer: TimerHandle | undefined;
  #stopped = false;
  /** Replicas of the clock bucket when this creates it (the task stream's). */
  #replicas = 1;
  #warned = false;

  constructor(
    private readonly broker: Broker,
    private readonly key: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Server time minus local time, in ms (0 until measured). */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Half the round trip of the best sample, in ms: how wrong {@link offsetMs} may be. Infinity until measured. */
  get errorMs(): number {
    return this.#errorMs;
  }

  /** A server instant (ms since the epoch, server clock) on the local clock. */
  toLocal(serverMs: number): number {
    return serverMs - this.#offsetMs;
  }

  /**
   * Measures once (never throws), then every five minutes until {@link stop}.
   * @param replicas of the clock bucket when this creates it. @default 1
   */
  async start(replicas = 1): Promise<void> {
    this.#replicas = replicas;
    await this.#measure();
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.clock.setTimer(() => void this.#measure().finally(() => this.#schedule()), REFRESH_MS);
  }

  async #measure(): Promise<void> {
    try {
      const bucket = await this.broker.kv(CLOCK_BUCKET, { history: 1, replicas: this.#replicas });
      const key = b64url(this.key);
      let best: { offset: number; error: number } | undefined;
      for (let i = 0; i < SAMPLES; i++) {
        const before = this.clock.now();
        await bucket.put(key, new Uint8Array(0));
        const after = this.clock.now();
        const entry = await bucket.get(key);
        if (!entry) continue;
        const sample = { offset: entry.createdAt.getTime() - (before + after) / 2, error: (after - before) / 2 };
        if (!best || sample.error < best.error) best = sample;
      }
      if (best) {
        this.#offsetMs = Math.round(best.offset);
        this.#errorMs = best.error;
        if (Math.abs(best.offset) > 1000) {
          const side = best.offset > 0 ? "behind" : "ahead of";
          this.logger.warn(
            { offset_ms: Math.round(best.offset) },
            `clock: this machine's clock is ${Math.abs(Math.round(best.offset))} ms ${side} the server's (± ${Math.ceil(best.error)} ms); task deadlines are converted`,
          );
        }
      }
    } catch (err) {
      if (!this.#warned) {
        this.#warned = true;
        this.logger.warn(
          { error: (err as Error).message },
          `clock: could not measure the offset to the server's clock (KV bucket ${CLOCK_BUCKET}); taking it as 0, so deadlines follow this machine's clock`,
        );
      }
    }
  }
}

/**
 * A task's deadline on the local clock: the budget its producer gave it (`deadline − enqueued_at`,
 * both written on the producer's clock, so the producer's skew cancels out), counted from when the
 * server first stored it, converted to the local clock. Undefined when the task has no deadline.
 * A task whose `enqueued_at` is missing or before 1970 keeps its absolute deadline.
 */
export function localDeadline(deadline: Date | undefined, enqueuedAt: Date, firstStoredAtServerMs: number, clock: ServerClock | undefined): number | undefined {
  if (deadline === undefined) return undefined;
  const enqueued = enqueuedAt.getTime();
  if (clock === undefined || !(enqueued > 0) || !(firstStoredAtServerMs > 0)) return deadline.getTime();
  return clock.toLocal(firstStoredAtServerMs) + (deadline.getTime() - enqueued);
}
