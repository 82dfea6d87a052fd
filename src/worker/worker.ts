/**
 * The worker: pulls tasks, runs their handlers under a concurrency limit, retries, dead-letters and
 * answers (reference §1.3, §3.2–3.9, with DESIGN.md §4's improvements).
 *
 * States: `new` → {@link Worker.start} → `running` (consumers pull; deliveries are handled) →
 * {@link Worker.close} → `draining` (no more pulls; deliveries not yet started are nak'ed for other
 * workers; running handlers finish and their outcomes are still published) → `closed`.
 * @module
 */
import type { Broker, ConsumerSpec, Delivery } from "../broker/port.js";
import { ConsumeLoop } from "../broker/consume-loop.js";
import type { TimerHandle } from "../broker/clock.js";
import { claimDurable, handlerNameFromSubject, RESPONSE_PREFIX, TARGET_PREFIX, TASK_PREFIX, TASK_STREAM, targetedTaskFilter, targetToken } from "../broker/topology.js";
import { priorAttempts } from "../broker/parking.js";
import { PauseWatch } from "./pause-watch.js";
import { decodeTask } from "../task/codec.js";
import type { Task } from "../task/envelope.js";
import { EbindError, ErrKind, TaskError, toTaskError } from "../task/errors.js";
import type { Registry } from "../task/registry.js";
import { ClaimSet } from "./claim-set.js";
import { dispatch } from "./dispatch.js";
import { LazyAbort, type Abortable } from "./lazy-abort.js";
import { chain, recover, type Middleware, type TaskHandler } from "./middleware.js";
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions, DEFAULT_CLAIM_CONSUMER_INACTIVE_MS } from "./options.js";
import { retryDelayMs, shouldRetry } from "./retry-decision.js";
import { openTaskConsumer } from "./consumer-setup.js";
import { Settler } from "./settle.js";
import { Slots } from "./slots.js";
import type { StepStart } from "./step-hook.js";

type State = "new" | "running" | "draining" | "closed";

/** A task worker. Create and start one with {@link Worker.start}. */
export class Worker {
  readonly options: ResolvedWorkerOptions;
  #state: State = "new";
  #handler: TaskHandler;
  readonly #middleware: Middleware[];
  readonly #slots: Slots;
  readonly #loops: ConsumeLoop[] = [];
  readonly #inFlight = new Set<Delivery>();
  readonly #running = new Set<Promise<void>>();
  readonly #claims: ClaimSet;
  /** Controllers of the handlers running now, aborted when the drain times out. */
  readonly #handlers = new Set<Abortable>();
  #heartbeat: TimerHandle | undefined;
  #heartbeatEveryMs = Infinity;
  readonly #settler: Settler;
  #closing: Promise<void> | undefined;
  /** Paused task names, when {@link WorkerOptions.taskPauses} is on. */
  #pauses: PauseWatch | undefined;

  /** Use {@link Worker.start}. */
  constructor(
    private readonly broker: Broker,
    private readonly registry: Registry,
    options: WorkerOptions = {},
  ) {
    if (typeof broker !== "object" || broker === null || typeof broker.pull !== "function") {
      throw new EbindError("invalid_argument", "worker: the first argument must be a Broker (connectNats, memoryBroker, openDevBackend().broker)");
    }
    if (typeof registry !== "object" || registry === null || typeof registry.get !== "function") {
      throw new EbindError("invalid_argument", "worker: the second argument must be a Registry of handlers");
    }
    this.options = resolveWorkerOptions(options);
    this.#middleware = [...this.options.middleware];
    this.#handler = this.#buildChain();
    this.#slots = new Slots(this.options.concurrency);
    this.#settler = new Settler(broker, this.options, this.options.logger);
    this.#claims = new ClaimSet(this.options.workerId, this.options.claims, (claim) => this.#openClaim(claim), this.options.logger);
  }

  /**
   * Creates a worker and starts consuming. The task stream must exist (`ensureStreams`).
   * @throws EbindError `invalid_argument` for a missing broker or registry, or bad options; `not_found` when `EBIND_TASKS` is missing;
   *   the claim provider's error when its first call fails.
   */
  static async start(broker: Broker, registry: Registry, options: WorkerOptions = {}): Promise<Worker> {
    const worker = new Worker(broker, registry, options);
    await worker.start();
    return worker;
  }

  /** This worker's id (the `worker:<id>` claim). */
  get id(): string {
    return this.options.workerId;
  }

  /** Handlers running now. */
  get active(): number {
    return this.#slots.held;
  }

  /** The claims held now, sorted (always including `worker:<id>`). */
  claims(): string[] {
    return this.#claims.list();
  }

  /** Appends middleware (inside those given in the options). */
  use(...middleware: Middleware[]): this {
    this.#middleware.push(...middleware);
    this.#handler = this.#buildChain();
    return this;
  }

  /** Opens the consumers and starts pulling. Called by {@link Worker.start}; idempotent. */
  async start(): Promise<void> {
    if (this.#state !== "new") return;
    if ((await this.broker.streamState(TASK_STREAM)) === null) {
      throw new EbindError("not_found", `worker: task stream "${TASK_STREAM}" missing (call ensureStreams first)`);
    }
    this.#state = "running";
    try {
      if (this.options.taskPauses) {
        this.#pauses = new PauseWatch(this.broker, this.options.logger);
        await this.#pauses.start();
      }
      await this.#openConsumer({
        durable: this.options.durable,
        filterSubject: `${TASK_PREFIX}>`,
        ackWaitMs: this.options.ackWaitMs,
        maxDeliver: this.options.maxDeliver,
        maxAckPending: this.options.maxAckPending,
      });
      await this.#claims.seed();
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
    this.#claims.startRefresh(this.options.claimRefreshIntervalMs);
  }

  /**
   * Stops pulling, gives back deliveries that have not started, and waits up to `shutdownGraceMs`
   * for running handlers; their outcomes are still published and acked. Idempotent.
   * @throws EbindError `timeout` "worker: shutdown timeout after <ms> ms, <n> handlers still in flight";
   *   those handlers' signals are aborted and their deliveries nak'ed for redelivery.
   */
  close(): Promise<void> {
    this.#closing ??= this.#drain();
    return this.#closing;
  }

  /** Runs until `signal` aborts, then closes. */
  async run(signal: AbortSignal): Promise<void> {
    await this.start();
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    await this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #drain(): Promise<void> {
    if (this.#state === "new") {
      this.#state = "closed";
      return;
    }
    this.#state = "draining";
    this.#claims.stop();
    this.#pauses?.stop();
    await Promise.all(this.#loops.map((loop) => loop.stop()));
    const grace = this.options.shutdownGraceMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all([...this.#running]).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), grace))),
    ]);
    if (timer) clearTimeout(timer);
    if (this.#heartbeat) this.options.clock.clearTimer(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#state = "closed";
    if (timedOut) {
      const stuck = this.#inFlight.size;
      const reason = new TaskError(ErrKind.Handler, "worker shut down before the handler finished");
      for (const controller of this.#handlers) controller.abort(reason);
      for (const delivery of this.#inFlight) delivery.nak();
      throw new EbindError("timeout", `worker: shutdown timeout after ${grace} ms, ${stuck} handlers still in flight`);
    }
  }

  #buildChain(): TaskHandler {
    const base: TaskHandler = async (ctx) => {
      const dispatcher = this.registry.get(ctx.task.name);
      if (!dispatcher) throw new TaskError(ErrKind.UnknownHandler, `no handler registered for "${ctx.task.name}"`, { retryable: false });
      return dispatcher.call(ctx, ctx.task.payload);
    };
    return chain([recover(), ...this.#middleware], base);
  }

  async #openConsumer(wanted: ConsumerSpec): Promise<void> {
    const spec = await openTaskConsumer(this.broker, wanted, this.options.updateConsumer, this.options.logger);
    this.#watchAckWait(spec.ackWaitMs);
    this.#loops.push(
      new ConsumeLoop({
        broker: this.broker,
        stream: TASK_STREAM,
        consumer: spec,
        room: () => this.#slots.free,
        roomChanged: () => this.#slots.changed(),
        onDelivery: (delivery) => this.#receive(delivery, spec),
        onError: (err) => this.options.logger.warn("worker: pull failed; retrying", { durable: spec.durable, error: (err as Error).message }),
        onClosed: (err) =>
          this.options.logger.error("worker: the broker's connection is closed; this consumer stopped pulling (close the worker)", {
            durable: spec.durable,
            error: (err as Error).message,
          }),
        pullExpiresMs: this.options.pullExpiresMs,
      }),
    );
  }

  async #openClaim(claim: string): Promise<void> {
    if (this.#state !== "running") return;
    await this.#openConsumer({
      durable: claimDurable(claim),
      filterSubject: targetedTaskFilter(claim),
      ackWaitMs: this.options.ackWaitMs,
      maxDeliver: this.options.maxDeliver,
      maxAckPending: this.options.maxAckPending,
      inactiveThresholdMs: DEFAULT_CLAIM_CONSUMER_INACTIVE_MS,
    });
  }

  /** In-progress acks go out every third of the shortest ack wait in force on this worker's consumers. */
  #watchAckWait(ackWaitMs: number): void {
    const every = Math.max(50, Math.floor(ackWaitMs / 3));
    if (every >= this.#heartbeatEveryMs) return;
    this.#heartbeatEveryMs = every;
    if (this.#heartbeat) this.options.clock.clearTimer(this.#heartbeat);
    const beat = (): void => {
      for (const delivery of this.#inFlight) delivery.working();
      if (this.#state !== "closed") this.#heartbeat = this.options.clock.setTimer(beat, this.#heartbeatEveryMs);
    };
    this.#heartbeat = this.options.clock.setTimer(beat, every);
  }

  /** Takes ownership of a delivery: heartbeats start now, the handler when a slot is free. */
  #receive(delivery: Delivery, consumer: ConsumerSpec): void {
    if (this.#state !== "running") {
      delivery.nak(this.options.pullExpiresMs); // past a lingering pull (see ConsumeLoop)
      return;
    }
    const name = this.#pauses ? handlerNameFromSubject(delivery.subject) : undefined;
    if (name !== undefined && this.#pauses?.shouldPark(name, delivery)) {
      this.#park(delivery, name);
      return;
    }
    this.#inFlight.add(delivery);
    const job = this.#process(delivery, consumer).finally(() => {
      this.#inFlight.delete(delivery);
      this.#running.delete(job);
    });
    this.#running.add(job);
  }

  /** Parks a task of a paused name (broker/parking.ts): no slot, no attempt, nothing run. */
  #park(delivery: Delivery, name: string): void {
    const job = this.#pauses!
      .park(delivery, name)
      .catch((err: unknown) => {
        this.options.logger.warn("worker: could not park a task of a paused name; it stays queued", { name, error: (err as Error).message });
        delivery.nak(this.options.claimRetryDelayMs);
      })
      .finally(() => this.#running.delete(job));
    this.#running.add(job);
  }

  async #process(delivery: Delivery, consumer: ConsumerSpec): Promise<void> {
    await this.#slots.acquire();
    let finished: Promise<void> = Promise.resolve();
    try {
      if (this.#state !== "running") {
        delivery.nak();
        return;
      }
      finished = (await this.#handle(delivery, consumer)).finished;
    } catch (err) {
      // Only a bug can land here; give the message back rather than lose it.
      this.options.logger.error("worker: unexpected error handling a delivery; nak'ing it", { subject: delivery.subject, error: (err as Error).message });
      delivery.nak(this.options.claimRetryDelayMs);
    } finally {
      // The slot is held until the handler itself returns, even past its deadline.
      void finished.finally(() => this.#slots.release());
    }
  }

  /** Reference §3.2 steps 1–8 for one delivery; `finished` settles when the handler has returned. */
  async #handle(delivery: Delivery, consumer: ConsumerSpec): Promise<{ finished: Promise<void> }> {
    const done = { finished: Promise.resolve() };
    let decoded: Task;
    try {
      decoded = decodeTask(delivery.data);
    } catch (err) {
      await this.#settler.deadLetterInvalid(delivery, toTaskError(err).detail);
      return done;
    }
    const mismatch = targetMismatch(delivery.subject, decoded.target) ?? badReplyTo(decoded.replyTo);
    if (mismatch !== undefined) {
      await this.#settler.deadLetterInvalid(delivery, mismatch);
      return done;
    }
    // A task parked while its name was paused comes back with a new delivery count: add the
    // attempts it had before (broker/parking.ts).
    const attempt = delivery.deliveryCount + priorAttempts(delivery);
    if (decoded.target && !this.#claims.holds(decoded.target)) {
      // A claim this worker dropped: its consumer stays open until shutdown; give the task back.
      delivery.nak(this.options.claimRetryDelayMs);
      return done;
    }
    const task: Task = { ...decoded, attempt, workerId: this.options.workerId };
    if (task.deadline && task.deadline.getTime() <= this.options.clock.now()) {
      await this.#settler.fail(delivery, task, new TaskError(ErrKind.Deadline, "deadline exceeded before dispatch", { retryable: false }));
      return done;
    }
    if (task.dagId && !this.options.stepHook) {
      // Its outcome could not be recorded: the DAG would wait forever. Leave it for a worker that can.
      this.options.logger.error("worker: a workflow step arrived but this worker has no stepHook (give it workflow.stepHook and workflow.middleware)", {
        task_id: task.id,
      });
      delivery.nak(this.options.claimRetryDelayMs);
      return done;
    }
    const controller = new LazyAbort();
    let release: (() => void) | undefined;
    if (task.dagId && this.options.stepHook?.onStepStart) {
      let start: StepStart;
      try {
        start = await this.options.stepHook.onStepStart(task, (reason) => controller.abort(reason));
      } catch (err) {
        // Whether the step may start cannot be told now: run it later rather than past a fence.
        this.options.logger.warn("worker: could not check whether a workflow step may start; it will be retried", { task_id: task.id, error: (err as Error).message });
        delivery.nak(this.options.claimRetryDelayMs);
        return done;
      }
      if (!start.run) {
        this.options.logger.debug("worker: workflow step not started", { task_id: task.id, reason: start.reason });
        delivery.ack();
        return done;
      }
      release = start.release;
    }
    const { outcome, finished: ran } = await dispatch(this.#handler, task, this.options.workerId, this.#handlers, this.options.clock, controller, release !== undefined);
    const finished = release ? ran.finally(release) : ran;
    const error = outcome.ok ? this.#settler.oversizedResult(task, outcome.result) : outcome.error;
    if (error === undefined) {
      await this.#settler.succeed(delivery, task, outcome.ok ? outcome.result : undefined);
    } else if (error.kind === ErrKind.UnknownHandler) {
      // Workers sharing the consumer may hold different handlers (a rolling deploy): give the task
      // back soon for another worker, within the policy's attempts, before failing it for good.
      const asRetryable = new TaskError(error.kind, error.detail, { retryable: true });
      if (shouldRetry(task, asRetryable, attempt, this.options, consumer.maxDeliver, delivery.deliveryCount)) delivery.nak(this.options.claimRetryDelayMs);
      else await this.#settler.fail(delivery, task, error);
    } else if (shouldRetry(task, error, attempt, this.options, consumer.maxDeliver, delivery.deliveryCount)) {
      delivery.nak(retryDelayMs(task, attempt, this.options));
    } else {
      await this.#settler.fail(delivery, task, error);
    }
    return { finished };
  }
}

/** Longest `reply_to` accepted: a subject far longer would break the connection's control line. */
export const MAX_REPLY_TO_CHARS = 1024;

/**
 * Why a `reply_to` in the response namespace can never be published to, or undefined when it can
 * (or lies outside `RESP.`, which the worker ignores, reference §3.2 step 8). It must be
 * `RESP.<client>.<task>[.…]`: non-empty tokens without whitespace or wildcards, at most
 * {@link MAX_REPLY_TO_CHARS} characters. A task whose response cannot be sent would otherwise run
 * again and again, so it is dead-lettered as `decode` before its handler runs.
 */
function badReplyTo(replyTo: string | undefined): string | undefined {
  if (!replyTo || !replyTo.startsWith(RESPONSE_PREFIX)) return undefined;
  if (replyTo.length > MAX_REPLY_TO_CHARS) return `reply_to of ${replyTo.length} characters is longer than ${MAX_REPLY_TO_CHARS}`;
  const tokens = replyTo.split(".");
  if (tokens.length < 3 || tokens.some((t) => t === "" || t === "*" || t === ">" || /[\s]/.test(t))) {
    return `reply_to ${JSON.stringify(replyTo)} is not a response subject RESP.<client>.<task>`;
  }
  return undefined;
}

/**
 * Why a task's target contradicts the subject it came on, or undefined when they agree: a targeted
 * task must arrive on `TASKS_TARGET.<b64url(target)>.…` and an untargeted one on `TASKS.…`. A
 * contradiction would be nak'ed forever by every worker, so it is dead-lettered instead.
 */
function targetMismatch(subject: string, target: string | undefined): string | undefined {
  if (subject.startsWith(TARGET_PREFIX)) {
    const token = subject.slice(TARGET_PREFIX.length).split(".")[0];
    if (!target) return `an untargeted task arrived on the targeted subject ${subject}`;
    if (targetToken(target) !== token) return `target ${JSON.stringify(target)} does not match subject ${subject} (expected token ${targetToken(target)})`;
    return undefined;
  }
  if (target) return `task targeted at ${JSON.stringify(target)} arrived on the untargeted subject ${subject}; publish it on ${TARGET_PREFIX}${targetToken(target)}.<name>`;
  return undefined;
}
