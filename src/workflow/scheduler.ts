/**
 * The scheduler (reference §3.15): consumes workflow events through the durable every scheduler
 * shares, and moves DAGs forward from their durable state. Several may run (one per worker
 * process); events of one DAG are handled one at a time within a process, and compare-and-set plus
 * message-id dedupe make racing processes safe. The leader also runs repair sweeps, when it gains
 * leadership and every `sweepIntervalMs`.
 *
 * The sweep repairs what a lost event leaves behind (reference §8.3 items 10–11, fixed): cascades
 * not applied are applied, ready steps are started, a DAG whose steps are all terminal is
 * finalised, and a step marked running whose task no worker ever started (attempt 0) for longer
 * than `strandedAfterMs` gets its task published again.
 * @module
 */
import type { Delivery } from "../broker/port.js";
import { ConsumeLoop } from "../broker/consume-loop.js";
import { decodeDagEvent } from "./codec.js";
import type { WorkflowCore } from "./core.js";
import { republishStepTask, resolveStepArgs, resolveTarget } from "./enqueue.js";
import { DAG_EVENTS_STREAM, schedulerConsumerSpec } from "./events.js";
import type { LeaderElector } from "./elector.js";
import { handleDoneEvent } from "./done-event.js";
import { GraphCache } from "./graph-cache.js";
import { DagProgress } from "./progress.js";
import type { LoadedDag } from "./store.js";
import { applyCompletion, type StepOutcome } from "./plan/index.js";
import type { DagEvent } from "./records.js";

/** Options of a scheduler. */
export interface SchedulerOptions {
  /** Decides who sweeps. @default always the leader */
  readonly elector?: LeaderElector | undefined;
  /** How often leadership is checked for a due sweep. @default 5000 */
  readonly sweepCheckIntervalMs?: number | undefined;
  /** Time between sweeps while leading. @default 60000 */
  readonly sweepIntervalMs?: number | undefined;
  /**
   * A running step that no worker ever started (attempt 0) is published again after this long, under
   * a fresh message id. Keep it above the task stream's duplicate window (5 min) and above how long a
   * task may wait in the queue, or a task that is merely slow to be picked up runs twice.
   * @default 600000 (10 min)
   */
  readonly strandedAfterMs?: number | undefined;
  /** Events handled at once (across DAGs). @default 32 */
  readonly concurrency?: number | undefined;
  /** Expiry of each event pull; also the longest `stop` waits for the last pull to drain. @default 2000 */
  readonly pullExpiresMs?: number | undefined;
}

/** The step outcome a `completed` event reports, or undefined for a status it cannot carry. */
function outcomeOf(event: DagEvent): StepOutcome | undefined {
  switch (event.status) {
    case "done":
      return { status: "done" };
    case "skipped":
      return { status: "skipped" };
    case "failed":
      return { status: "failed", errorKind: event.errorKind ?? "", errorMessage: event.errorMessage ?? "" };
    default:
      return undefined;
  }
}

/** Deliveries of one event before it is given up (acked) and left to the sweep. */
const EVENT_ATTEMPTS = 5;

/** A running scheduler. Stop it with {@link Scheduler.stop}. */
export class Scheduler {
  readonly #core: WorkflowCore;
  readonly #elector: LeaderElector | undefined;
  readonly #options: Required<Omit<SchedulerOptions, "elector">>;
  readonly #chains = new Map<string, Promise<void>>();
  /** Steps and edges of the DAGs this process handles events of (see `graph-cache.ts`). */
  readonly #graphs = new GraphCache();
  #active = 0;
  #idle: Array<() => void> = [];
  #loop: ConsumeLoop | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wasLeader = false;
  #lastSweep = 0;
  #sweeping: Promise<void> | undefined;
  #stopped = false;

  /** @internal Use `workflow.startScheduler()`. */
  constructor(core: WorkflowCore, options: SchedulerOptions = {}) {
    this.#core = core;
    this.#elector = options.elector;
    this.#options = {
      sweepCheckIntervalMs: options.sweepCheckIntervalMs ?? 5000,
      sweepIntervalMs: options.sweepIntervalMs ?? 60_000,
      strandedAfterMs: options.strandedAfterMs ?? 600_000,
      concurrency: options.concurrency ?? 32,
      pullExpiresMs: options.pullExpiresMs ?? 2000,
    };
  }

  /** Opens the event consumer and starts the sweep timer. */
  async start(): Promise<void> {
    const spec = schedulerConsumerSpec();
    await this.#core.broker.ensureConsumer(DAG_EVENTS_STREAM, spec);
    await this.#elector?.start();
    this.#loop = new ConsumeLoop({
      broker: this.#core.broker,
      stream: DAG_EVENTS_STREAM,
      consumer: spec,
      room: () => this.#options.concurrency - this.#active,
      roomChanged: () => new Promise<void>((resolve) => this.#idle.push(resolve)),
      onDelivery: (d) => this.#receive(d),
      onError: (err) => this.#core.logger.warn("scheduler: event pull failed; retrying", { error: (err as Error).message }),
      pullExpiresMs: this.#options.pullExpiresMs,
    });
    const tick = (): void => {
      if (this.#stopped) return;
      void this.#maybeSweep().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#options.sweepCheckIntervalMs).unref();
      });
    };
    tick();
  }

  /** Stops consuming and sweeping; waits for events being handled. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#loop?.stop();
    await Promise.all([...this.#chains.values(), this.#sweeping]);
    await this.#elector?.stop();
  }

  /** Runs a sweep now, whatever the elector says (for tests and operators). */
  sweepNow(): Promise<void> {
    this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  #receive(delivery: Delivery): void {
    let event: DagEvent;
    try {
      event = decodeDagEvent(delivery.data);
    } catch (err) {
      this.#core.logger.warn("scheduler: undecodable event terminated", { subject: delivery.subject, error: (err as Error).message });
      delivery.term();
      return;
    }
    this.#active++;
    const previous = this.#chains.get(event.dagId) ?? Promise.resolve();
    const next = previous.then(() => this.#handle(event, delivery));
    this.#chains.set(event.dagId, next);
    void next.finally(() => {
      if (this.#chains.get(event.dagId) === next) this.#chains.delete(event.dagId);
      this.#active--;
      for (const wake of this.#idle.splice(0)) wake();
    });
  }

  async #handle(event: DagEvent, delivery: Delivery): Promise<void> {
    try {
      await this.handleEvent(event);
      delivery.ack();
    } catch (err) {
      const give = delivery.deliveryCount >= EVENT_ATTEMPTS;
      this.#core.logger.warn(`scheduler: event handling failed; ${give ? "leaving it to the sweep" : "will retry"}`, {
        dag_id: event.dagId,
        kind: event.kind,
        step_id: event.stepId,
        error: (err as Error).message,
      });
      if (give) delivery.ack();
      else delivery.nak(250 * delivery.deliveryCount);
    }
  }

  /**
   * Handles one event against the DAG's durable state (reference §3.15 `handleEvent`). A step's
   * successful completion is handled from this process's cached graph of the DAG when it can be
   * (`done-event.ts`); everything else, and whatever that path leaves, from the full state.
   */
  async handleEvent(event: DagEvent): Promise<void> {
    if (event.kind === "completed" && event.status === "done") {
      if ((await handleDoneEvent(this.#core, this.#graphs, event)) === "handled") return;
    } else if (event.kind === "step_added") {
      // Before the new step's dependencies are read: no cached graph without it is used after this.
      if (!(await this.#core.store.touchMeta(event.dagId))) return;
    }
    await this.#handleFromState(event);
  }

  /** Loads the whole DAG (refreshing the cached graph) and handles the event from it. */
  async #handleFromState(event: DagEvent): Promise<void> {
    const loaded = await this.#load(event.dagId);
    if (!loaded) return; // deleted DAG
    const progress = new DagProgress(this.#core, loaded);
    const status = progress.meta.status;
    if (status === "canceled" || status === "paused" || status === "done" || status === "failed") return;
    if (status === "pausing" && (event.kind === "step_added" || event.kind === "signal")) return;
    if (event.kind === "completed") {
      const outcome = outcomeOf(event);
      if (outcome === undefined || !progress.state.steps.has(event.stepId)) return;
      // The hook persisted this step's own status before publishing; apply it in memory (a replica
      // may lag), and persist only the steps it cascades to.
      const applied = applyCompletion(progress.state, event.stepId, outcome, new Date());
      progress.setStep(applied.state.steps.get(event.stepId)!);
      if (outcome.status !== "done") await progress.cascadeFrom(event.stepId);
    } else if (event.kind === "resumed") {
      await progress.cascadeAll();
    }
    await progress.startReady();
    if (await progress.finalize()) this.#graphs.drop(event.dagId);
  }

  /** Loads a DAG and keeps its graph (dropped for a finished or deleted DAG). */
  async #load(dagId: string): Promise<LoadedDag | null> {
    const loaded = await this.#core.store.load(dagId);
    const status = loaded?.state.meta.status;
    if (!loaded || status === "done" || status === "failed" || status === "canceled") this.#graphs.drop(dagId);
    else this.#graphs.set(dagId, loaded.metaRevision, loaded.state.steps.values());
    return loaded;
  }

  async #maybeSweep(): Promise<void> {
    const leader = this.#elector ? this.#elector.isLeader() : true;
    const edge = leader && !this.#wasLeader;
    this.#wasLeader = leader;
    if (!leader) return;
    if (!edge && Date.now() - this.#lastSweep < this.#options.sweepIntervalMs) return;
    await this.sweepNow().catch((err: unknown) => this.#core.logger.warn("scheduler: sweep failed", { error: (err as Error).message }));
  }

  async #sweep(): Promise<void> {
    this.#lastSweep = Date.now();
    for (const meta of await this.#core.store.listMetas()) {
      if (this.#stopped) return;
      if (meta.status !== "running") continue;
      const work = async (): Promise<void> => {
        const loaded = await this.#load(meta.id);
        if (!loaded || loaded.state.meta.status !== "running") return;
        const progress = new DagProgress(this.#core, loaded);
        await progress.cascadeAll();
        await this.#republishStranded(progress);
        await progress.startReady();
        if (await progress.finalize()) this.#graphs.drop(meta.id);
      };
      // Serialised with this process's event handling of the same DAG.
      const previous = this.#chains.get(meta.id) ?? Promise.resolve();
      const next = previous.then(work).catch((err: unknown) =>
        this.#core.logger.warn("scheduler: sweep of a DAG failed", { dag_id: meta.id, error: (err as Error).message }),
      );
      this.#chains.set(meta.id, next);
      await next;
      if (this.#chains.get(meta.id) === next) this.#chains.delete(meta.id);
    }
  }

  /** Publishes again the task of running steps no worker ever started, once they are old enough. */
  async #republishStranded(progress: DagProgress): Promise<void> {
    const now = Date.now();
    const ctx = { step: (id: string) => progress.state.steps.get(id), signal: (name: string) => progress.state.signals.get(name)?.payload };
    for (const record of progress.state.steps.values()) {
      if (record.status !== "running" || record.attempt > 0) continue;
      if (!record.startedAt || now - record.startedAt.getTime() < this.#options.strandedAfterMs) continue;
      const resolved = await resolveStepArgs(this.#core, record, ctx);
      if (resolved.skip) continue; // the cascade handles it
      this.#core.logger.warn("scheduler: republishing a step whose task no worker started", { dag_id: record.dagId, step_id: record.stepId });
      await republishStepTask(this.#core, progress.meta, record, resolved.payload, resolveTarget(record, ctx));
    }
  }
}
