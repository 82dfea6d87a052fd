/**
 * The worker: pulls tasks, runs their handlers under a concurrency limit, retries, dead-letters and
 * answers (reference §1.3, §3.2–3.9, with DESIGN.md §4's improvements and issue 12's stop paths).
 *
 * States: `new` → {@link Worker.start} → `running` (consumers pull; deliveries are handled) →
 * {@link Worker.close} → `draining` (no more pulls; deliveries not yet started are handed back for
 * other workers, spending no attempt; running handlers finish and their outcomes are still
 * published) → `closed`.
 * @module
 */
import type { Broker, ConsumerSpec, Delivery } from "../broker/port.js";
import { ConsumeLoop } from "../broker/consume-loop.js";
import type { TimerHandle } from "../broker/clock.js";
import { claimDurable, handlerNameFromSubject, TASK_PREFIX, TASK_STREAM, targetedTaskFilter } from "../broker/topology.js";
import { PauseWatch } from "./pause-watch.js";
import { firstStoredAtMs } from "../broker/parking.js";
import { localDeadline, ServerClock } from "./server-clock.js";
import type { Task } from "../task/envelope.js";
import { taskFields } from "../broker/logger.js";
import { deliveryFields } from "./log-fields.js";
import { EbindError, ErrKind, TaskError } from "../task/errors.js";
import type { Registry } from "../task/registry.js";
import { admit, type AdmissionContext } from "./admission.js";
import { Bounces } from "./bounces.js";
import { ClaimSet } from "./claim-set.js";
import { dispatch, judgeHandler } from "./dispatch.js";
import { handBack } from "./hand-back.js";
import { InFlight, type Held } from "./in-flight.js";
import { deadLetterExhausted, MAX_DELIVERIES_GROUP } from "./max-deliveries.js";
import { LazyAbort, type Abortable } from "./lazy-abort.js";
import { chain, recover, type Middleware, type TaskHandler } from "./middleware.js";
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions, DEFAULT_CLAIM_CONSUMER_INACTIVE_MS } from "./options.js";
import { maxAttempts, retryDelayMs, shouldRetry } from "./retry-decision.js";
import { openTaskConsumer } from "./consumer-setup.js";
import { Settler } from "./settle.js";
import { ProgressAcks } from "./progress-acks.js";
import { Slots } from "./slots.js";
import type { StepStart } from "./step-hook.js";
import type { WorkerConsumer, WorkerHealth } from "./health.js";
import type { AttemptScope } from "../broker/telemetry.js";

type State = "new" | "running" | "draining" | "closed";

/** A task worker. Create and start one with {@link Worker.start}. */
export class Worker {
  readonly options: ResolvedWorkerOptions;
  #state: State = "new";
  #handler: TaskHandler;
  readonly #middleware: Middleware[];
  readonly #slots: Slots;
  readonly #loops: ConsumeLoop[] = [];
  /** The durables of {@link #loops}, in the same order. */
  readonly #consumers: WorkerConsumer[] = [];
  readonly #inFlight = new InFlight();
  /** Per stream sequence held, the other copies of that message delivered meanwhile (see #receive). */
  readonly #bySeq = new Map<number, Delivery[]>();
  /** Jobs close() waits for: handling a delivery up to its outcome, parking, handing back. */
  readonly #running = new Set<Promise<void>>();
  /** Handlers still running whose outcome is recorded, settling when each returns or is abandoned. */
  readonly #handlerRuns = new Set<Promise<void>>();
  /** Handlers left running after ignoring their abort. */
  readonly #abandonedRuns = new Map<LazyAbort, AbandonedHandler>();
  readonly #claims: ClaimSet;
  /** Controllers of the handlers running now. */
  readonly #handlers = new Set<Abortable>();
  readonly #drainStarted = deferred();
  readonly #loopsStopped = deferred();
  readonly #bounces: Bounces;
  /** What admission asks of this worker; one object for every delivery. */
  readonly #admission: AdmissionContext;
  /** Stops the max-deliveries advisory subscriptions. */
  readonly #unsubscribes: Array<() => void> = [];
  /** In-progress acks of the deliveries held (progress-acks.ts). */
  readonly #progress: ProgressAcks;
  readonly #settler: Settler;
  #closing: Promise<void> | undefined;
  /** Paused task names, when {@link WorkerOptions.taskPauses} is on. */
  #pauses: PauseWatch | undefined;
  /** The offset to the server's clock, for deadlines (server-clock.ts). */
  readonly #serverClock: ServerClock;

  /** Use {@link Worker.start}. */
  constructor(
    /** The broker this worker consumes from (for reading its consumers' state, e.g. by metrics). */
    readonly broker: Broker,
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
    this.#progress = new ProgressAcks(broker, this.options.clock, this.options.logger, () => this.#inFlight.deliveries());
    this.#claims = new ClaimSet(this.options.workerId, this.options.claims, (claim) => this.#openClaim(claim), this.options.logger);
    this.#bounces = new Bounces(this.options.workerId, this.options.logger, this.options.clock);
    this.#serverClock = new ServerClock(broker, this.options.workerId, this.options.clock, this.options.logger);
    this.#admission = {
      workerId: this.options.workerId,
      maxAttempts: (task) => maxAttempts(task, this.options),
      holds: (claim) => this.#claims.holds(claim),
      hasHandler: (name) => this.registry.get(name) !== undefined,
      hasStepHook: this.options.stepHook !== undefined,
      now: () => this.options.clock.now(),
      deadlineAt: (task, delivery) => localDeadline(task.deadline, task.enqueuedAt, firstStoredAtMs(delivery), this.#serverClock),
    };
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

  /**
   * Whether the worker takes tasks now: started and not closing, its connection up
   * (`broker.connected`), each of its pulls consuming — served by the server since the last pull
   * that failed or went unanswered (a consumer without a leader after a node restart, a durable
   * being re-created) — and its outcomes being stored: none waiting longer than 2 s, and the last
   * one not failed (a stream electing its leader holds every slot on its write). A worker whose
   * slots are busy with handlers stays ready. For readiness probes: it turns false at once on a
   * disconnect, otherwise within a pull expiry (`pullExpiresMs`) plus a second of its consumer
   * losing its leader, or 2 s of a write stalling; and true again once a pull is served and an
   * outcome stored.
   */
  get ready(): boolean {
    return this.#state === "running" && (this.broker.connected ?? true) && this.#loops.every((loop) => loop.consuming) && this.#settler.health.healthy();
  }

  /**
   * Liveness and readiness with the conditions behind them (see {@link WorkerHealth}): `ready` is
   * {@link ready}; `live` is false while a handler that ignored its abort still runs
   * ({@link abandoned}). The probes of `ebind/observe` serve exactly this.
   */
  health(): WorkerHealth {
    const abandoned = this.abandoned(); // in the order they were abandoned
    const running = this.#state === "running";
    const connected = this.broker.connected ?? true;
    const consuming = this.#loops.every((loop) => loop.consuming);
    const outcomesStored = this.#settler.health.healthy();
    return { live: abandoned.length === 0, ready: running && connected && consuming && outcomesStored, running, connected, consuming, outcomesStored, abandoned };
  }

  /**
   * The durable consumers this worker pulls from: its own durable once started, plus one per claim it
   * has held (kept until close). For reading their state (`broker.consumerState`), e.g. for metrics.
   */
  consumers(): WorkerConsumer[] {
    return [...this.#consumers];
  }

  /** Handler slots not held now: `concurrency` − {@link active}. */
  get freeSlots(): number {
    return this.#slots.size - this.#slots.held;
  }

  /** Handlers running now. */
  get active(): number {
    return this.#slots.held;
  }

  /**
   * Handlers that did not return within `abortGraceMs` after their signal aborted and still run
   * (their outcome is recorded and their slot given back). Empty in a healthy worker.
   */
  abandoned(): AbandonedHandler[] {
    return [...this.#abandonedRuns.values()];
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
    const tasks = await this.broker.streamState(TASK_STREAM);
    if (tasks === null) {
      throw new EbindError("not_found", `worker: task stream "${TASK_STREAM}" missing (call ensureStreams first)`);
    }
    this.#state = "running";
    try {
      // The worker's own buckets are replicated like the task stream.
      await this.#serverClock.start(tasks.replicas);
      if (this.options.taskPauses) {
        this.#pauses = new PauseWatch(this.broker, this.options.logger, tasks.replicas);
        await this.#pauses.start();
      }
      await this.#openConsumer({
        durable: this.options.durable,
        filterSubject: `${TASK_PREFIX}>`,
        ackWaitMs: this.options.ackWaitMs,
        maxDeliver: -1, // the worker counts attempts itself (options.maxDeliver)
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
    this.#drainStarted.resolve();
    this.#claims.stop();
    this.#pauses?.stop();
    this.#serverClock.stop();
    for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
    await Promise.all(this.#loops.map((loop) => loop.stop()));
    this.#loopsStopped.resolve();
    const grace = this.options.shutdownGraceMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all([...this.#running, ...this.#handlerRuns]).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), grace))),
    ]);
    if (timer) clearTimeout(timer);
    this.#state = "closed";
    await this.#progress.close();
    if (timedOut) {
      const { running, done } = this.#inFlight.handBackAll(this.broker, this.options.logger);
      await done;
      throw new EbindError("timeout", `worker: shutdown timeout after ${grace} ms, ${running} handlers still in flight (handed back to the queue)`);
    }
    const abandoned = this.abandoned();
    if (abandoned.length > 0) {
      const list = abandoned.map((a) => `task ${a.taskId} (${a.name})`).join(", ");
      throw new EbindError("timeout", `worker: ${abandoned.length} handler${abandoned.length === 1 ? "" : "s"} did not stop after ${abandoned.length === 1 ? "its" : "their"} abort: ${list}; ${abandoned.length === 1 ? "it" : "they"} may still be running`);
    }
  }

  #buildChain(): TaskHandler {
    const base: TaskHandler = async (ctx) => {
      const dispatcher = this.registry.get(ctx.task.name);
      if (!dispatcher) throw new TaskError(ErrKind.UnknownHandler, `no handler registered for "${ctx.task.name}"`, { retryable: false });
      return dispatcher.call(ctx, ctx.task.payload);
    };
    return chain([recover(), ...this.#middleware], judgeHandler(base));
  }

  async #openConsumer(wanted: ConsumerSpec): Promise<void> {
    const spec = await openTaskConsumer(this.broker, wanted, this.options.updateConsumer, this.options.logger);
    this.#progress.watchAckWait(spec.ackWaitMs);
    if (spec.maxDeliver > 0 && this.broker.onMaxDeliveries) {
      this.#unsubscribes.push(this.broker.onMaxDeliveries(TASK_STREAM, spec.durable, MAX_DELIVERIES_GROUP, (seq) => this.#track(deadLetterExhausted(seq, spec.maxDeliver, { broker: this.broker, settler: this.#settler, admission: this.#admission, logger: this.options.logger }))));
    }
    this.#consumers.push({ stream: TASK_STREAM, durable: spec.durable });
    this.#loops.push(
      new ConsumeLoop({
        broker: this.broker,
        stream: TASK_STREAM,
        consumer: spec,
        room: () => this.#slots.free,
        roomChanged: () => this.#slots.changed(),
        onDelivery: (delivery) => this.#receive(delivery, spec),
        onError: (err) => this.options.logger.warn({ durable: spec.durable, error: (err as Error).message }, "worker: pull failed; retrying"),
        onClosed: (err) =>
          this.options.logger.error(
            { durable: spec.durable, error: (err as Error).message },
            "worker: the broker's connection is closed; this consumer stopped pulling (close the worker)",
          ),
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
      maxDeliver: -1, // the worker counts attempts itself (options.maxDeliver)
      maxAckPending: this.options.maxAckPending,
      inactiveThresholdMs: DEFAULT_CLAIM_CONSUMER_INACTIVE_MS,
    });
  }

  /** Tracks a job so that close() waits for it; when it ends, the delivery (if given) is forgotten. */
  #track(job: Promise<void>, delivery?: Delivery): void {
    this.#running.add(job);
    void job.finally(() => {
      this.#running.delete(job);
      if (delivery) this.#forget(delivery);
    });
  }

  /** Takes ownership of a delivery: heartbeats start now, the handler when a slot is free. */
  #receive(delivery: Delivery, consumer: ConsumerSpec): void {
    const copies = this.#bySeq.get(delivery.streamSeq);
    if (copies !== undefined) {
      // The server delivered a message again while this worker still holds it (its ack wait ran
      // out while the event loop was blocked, before its heartbeats started): one copy runs; this
      // one is settled as that one is.
      copies.push(delivery);
      this.#progress.track(delivery);
      return;
    }
    this.#bySeq.set(delivery.streamSeq, []);
    const held = this.#inFlight.add(delivery);
    this.#progress.track(delivery);
    if (this.#state !== "running") {
      this.#track(this.#handBackLater(delivery, held), delivery);
      return;
    }
    const name = this.#pauses ? handlerNameFromSubject(delivery.subject) : undefined;
    if (name !== undefined && this.#pauses?.shouldPark(name, delivery)) {
      this.#forget(delivery);
      this.#park(delivery, name);
      return;
    }
    this.#track(this.#process(delivery, consumer, held), delivery);
  }

  /** The delivery is settled or given away: no more heartbeats for it. */
  #forget(delivery: Delivery): void {
    this.#inFlight.delete(delivery);
    this.#progress.untrack(delivery);
    const copies = this.#bySeq.get(delivery.streamSeq);
    this.#bySeq.delete(delivery.streamSeq);
    const settled = delivery.settlement;
    for (const copy of copies ?? []) {
      if (settled?.kind === "ack") copy.ack();
      else if (settled?.kind === "term") copy.term();
      else if (settled?.kind === "nak") copy.nak(settled.delayMs);
      this.#progress.untrack(copy);
    }
  }

  /** Parks a task of a paused name (broker/parking.ts): no slot, no attempt, nothing run. */
  #park(delivery: Delivery, name: string): void {
    this.#track(
      this.#pauses!.park(delivery, name).catch((err: unknown) => {
        this.options.logger.warn(deliveryFields(delivery, { task_name: name, error: (err as Error).message }), "worker: could not park a task of a paused name; it stays queued");
        delivery.nak(this.options.claimRetryDelayMs);
      }),
    );
  }

  /**
   * Gives a delivery back once no pull of this worker can take it again (after the consume loops
   * stopped, at shutdown; at once otherwise), spending none of its attempts (hand-back.ts).
   */
  async #handBackLater(delivery: Delivery, held: Held, holdMs = 0): Promise<void> {
    held.phase = "held";
    if (holdMs > 0) {
      let timer: TimerHandle | undefined;
      await Promise.race([this.#drainStarted.promise, new Promise<void>((resolve) => (timer = this.options.clock.setTimer(resolve, holdMs)))]);
      if (timer) this.options.clock.clearTimer(timer);
    }
    if (this.#state !== "running") await this.#loopsStopped.promise;
    if (held.gone) return;
    held.gone = true;
    try {
      await handBack(this.broker, delivery);
    } catch (err) {
      this.options.logger.warn(deliveryFields(delivery, { error: (err as Error).message }), "worker: could not hand a task back; nak'ing it");
      delivery.nak(this.options.claimRetryDelayMs);
    }
  }

  async #process(delivery: Delivery, consumer: ConsumerSpec, held: Held): Promise<void> {
    await this.#slots.acquire();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#slots.release();
    };
    let finished: Promise<void> | undefined;
    try {
      if (held.gone) return;
      if (this.#state !== "running") {
        release();
        await this.#handBackLater(delivery, held);
        return;
      }
      finished = (await this.#handle(delivery, consumer, held, release))?.finished;
    } catch (err) {
      // Only a bug can land here; give the message back rather than lose it.
      this.options.logger.error(deliveryFields(delivery, { error: (err as Error).message }), "worker: unexpected error handling a delivery; nak'ing it");
      delivery.nak(this.options.claimRetryDelayMs);
    } finally {
      // The slot is held until the handler itself returns (or is abandoned), even past its deadline.
      if (finished) {
        this.#handlerRuns.add(finished);
        void finished.finally(() => {
          this.#handlerRuns.delete(finished!);
          release();
        });
      } else release();
    }
  }

  /**
   * Reference §3.2 steps 1–8 for one delivery. Returns `finished`, which settles when the handler
   * has returned (or was abandoned), or undefined when no handler ran.
   */
  async #handle(delivery: Delivery, consumer: ConsumerSpec, held: Held, release: () => void): Promise<{ finished: Promise<void> } | undefined> {
    const verdict = admit(delivery, this.#admission);
    switch (verdict.action) {
      case "invalid":
        await this.#settler.deadLetterInvalid(delivery, verdict.reason, verdict.task);
        return undefined;
      case "fail":
        await this.#settler.fail(delivery, verdict.task, verdict.error);
        return undefined;
      case "hand-back":
        release();
        this.#bounces.note(verdict.task, verdict.why);
        await this.#handBackLater(delivery, held, this.options.claimRetryDelayMs);
        return undefined;
      case "run":
        break;
    }
    const { task, deadlineAt } = verdict;
    const controller = new LazyAbort();
    let releaseStep: (() => void) | undefined;
    if (task.dagId && this.options.stepHook?.onStepStart) {
      let start: StepStart;
      try {
        start = await this.options.stepHook.onStepStart(task, (reason) => controller.abort(reason));
      } catch (err) {
        // Whether the step may start cannot be told now: run it later rather than past a fence.
        this.options.logger.warn(taskFields(task, { error: (err as Error).message }), "worker: could not check whether a workflow step may start; handing it back");
        release();
        await this.#handBackLater(delivery, held, this.options.claimRetryDelayMs);
        return undefined;
      }
      if (!start.run) {
        if (start.unknown) {
          // Nothing will ever account for a step of no DAG: keep it where an operator sees it.
          await this.#settler.deadLetterInvalid(delivery, start.reason, task);
          return undefined;
        }
        this.options.logger.debug(taskFields(task, { reason: start.reason }), "worker: workflow step not started");
        delivery.ack();
        return undefined;
      }
      releaseStep = start.release;
    }
    held.phase = "running";
    held.controller = controller;
    held.task = task;
    const clock = this.options.clock;
    const scope = this.options.telemetry === undefined ? undefined : this.#observe(task, delivery, consumer);
    const startedAt = scope === undefined ? 0 : clock.now();
    const { outcome, finished: ran } = await dispatch(scope === undefined ? this.#handler : observed(this.#handler, scope), task, this.options.workerId, this.#handlers, clock, controller, {
      deadlineAt,
      attemptTimeoutMs: task.attemptTimeoutMs ?? this.options.attemptTimeoutMs,
      abortGraceMs: this.options.abortGraceMs,
      onAbandoned: (reason) => this.#abandon(controller, task, reason),
      onReturnedLate: () => this.#abandonedRuns.delete(controller),
    });
    const finished = releaseStep ? ran.finally(releaseStep) : ran;
    const durationMs = scope === undefined ? 0 : clock.now() - startedAt;
    // Handed back at shutdown: the delivery is already given back; this attempt records nothing.
    if ((!outcome.ok && outcome.handedBack) || held.gone) {
      scope?.end({ result: "handed-back", durationMs });
      return { finished };
    }
    held.phase = "settling";
    const error = outcome.ok ? this.#settler.oversizedResult(task, outcome.result) : outcome.error;
    if (error === undefined) {
      const retryInMs = await this.#settler.succeed(delivery, task, outcome.ok ? outcome.result : undefined);
      scope?.end(retryInMs === undefined ? { result: "succeeded", durationMs } : { result: "retried", durationMs, error: unrecorded(), delayMs: retryInMs });
    } else if (shouldRetry(task, error, task.attempt, this.options, consumer.maxDeliver, delivery.deliveryCount)) {
      const delayMs = retryDelayMs(task, task.attempt, this.options);
      delivery.nak(delayMs);
      scope?.end({ result: "retried", durationMs, error, delayMs });
    } else {
      // Inside the attempt's context, so the dead letter it writes is reported as the attempt's.
      const retryInMs = await (scope === undefined ? this.#settler.fail(delivery, task, error) : scope.run(() => this.#settler.fail(delivery, task, error)));
      scope?.end(retryInMs === undefined ? { result: "failed", durationMs, error } : { result: "retried", durationMs, error, delayMs: retryInMs });
    }
    return { finished };
  }

  /** The telemetry's scope of the attempt about to run (only called when a telemetry is set). */
  #observe(task: Task, delivery: Delivery, consumer: ConsumerSpec): AttemptScope | undefined {
    return this.options.telemetry?.attempt({
      task,
      subject: delivery.subject,
      durable: consumer.durable,
      workerId: this.options.workerId,
      deliveryCount: delivery.deliveryCount,
      // From the producer's clock to this worker's: a negative wait (clocks apart) reads as 0.
      queueWaitMs: Math.max(0, this.options.clock.now() - task.enqueuedAt.getTime()),
    });
  }

  /** A handler that did not return within `abortGraceMs` of its abort: reported, its slot given back. */
  #abandon(controller: LazyAbort, task: Task, reason: TaskError): void {
    const record: AbandonedHandler = { taskId: task.id, name: task.name, attempt: task.attempt, abortedBecause: reason.kind, abandonedAt: new Date(this.options.clock.now()) };
    this.#abandonedRuns.set(controller, record);
    this.options.logger.error(
      taskFields(task, { abort_kind: reason.kind }),
      `worker: handler of task ${task.id} (${task.name}) has not returned ${this.options.abortGraceMs} ms after its signal aborted (${reason.kind}); its slot is given back while it keeps running`,
    );
  }
}

/** A handler that ignored its abort and was left running (see {@link WorkerOptions.abortGraceMs}). */
export interface AbandonedHandler {
  readonly taskId: string;
  readonly name: string;
  readonly attempt: number;
  /** The kind of the abort it ignored: `deadline`, `timeout`, `canceled`. */
  readonly abortedBecause: string;
  readonly abandonedAt: Date;
}

/** The handler chain run inside an attempt's telemetry scope. */
function observed(handler: TaskHandler, scope: AttemptScope): TaskHandler {
  return (ctx) => scope.run(() => handler(ctx));
}

/** The error of an attempt whose handler succeeded but whose success could not be stored: it runs again. */
function unrecorded(): TaskError {
  return new TaskError("record_failed", "the handler succeeded but its outcome could not be recorded; the task runs again", { retryable: true });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
