/**
 * The scheduler (reference §3.15): consumes workflow events through the durable every scheduler
 * shares, and moves DAGs forward from their durable state. Several may run (one per worker
 * process); events of one DAG are handled one at a time within a process (those that queued up
 * meanwhile together), and compare-and-set plus message-id dedupe make racing processes safe. The
 * leader also runs repair sweeps, when it gains leadership and every `sweepIntervalMs`.
 *
 * The sweep repairs what a lost event leaves behind (reference §8.3 items 10–11, fixed): cascades
 * not applied are applied, ready steps are started, a DAG whose steps are all terminal is
 * finalised, and a step marked running whose task no worker ever started (attempt 0) for longer
 * than `strandedAfterMs` gets its task published again.
 * @module
 */
import type { Delivery } from "../../broker/port.js";
import { ConsumeLoop } from "../../broker/consume-loop.js";
import { decodeDagEvent } from "../model/codec.js";
import type { WorkflowCore } from "../store/core.js";
import { advance, sweepDag, type Advanced } from "./advance.js";
import { DAG_EVENTS_STREAM, schedulerConsumerSpec } from "../store/events.js";
import { EVENT_ACK_WAIT_MS, HeldEvents } from "./held-events.js";
import type { LeaderElector } from "./elector.js";
import { DagLanes } from "./dag-lanes.js";
import { handleDoneEvents } from "./done-event.js";
import { GraphCache } from "./graph-cache.js";
import { DagProgress } from "./progress.js";
import type { LoadedDag, Versioned } from "../store/store.js";
import { allStepsTerminal, applyCompletion, type StepOutcome } from "../plan/index.js";
import type { DagEvent, DagMeta, DagStatus, StepRecord } from "../model/records.js";

/** Options of a scheduler. */
export interface SchedulerOptions {
  /** Decides who sweeps. @default always the leader */
  readonly elector?: LeaderElector | undefined;
  /** How often leadership is checked for a due sweep. @default 5000 */
  readonly sweepCheckIntervalMs?: number | undefined;
  /** Time between sweeps while leading. @default 60000 */
  readonly sweepIntervalMs?: number | undefined;
  /**
   * A hold (of a pause) found under a `running` meta this long after it was set is released by the
   * sweep: a resume died half-way (`resume()` again releases them at once). Not at once, because
   * ebind for Go's pause holds steps before it writes the meta. @default 30000 (the reference: 2 min)
   */
  readonly orphanedHoldMs?: number | undefined;
  /**
   * A running step that no worker ever started (attempt 0) is published again after this long, under
   * a fresh message id. Keep it above the task stream's duplicate window (5 min) and above how long a
   * task may wait in the queue, or a task that is merely slow to be picked up runs twice.
   * @default 600000 (10 min)
   */
  readonly strandedAfterMs?: number | undefined;
  /** Events held at once, being handled or queued behind others of their DAG. @default 32 */
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

/**
 * Whether a `completed` event cannot be about this step as it is now: it names another incarnation
 * of the step (a DAG deleted and re-created under its id: the record was created at another time),
 * an earlier start than the record's (a failed step reopened by a DLQ requeue; a later start than
 * the record's is a read lagging behind the event, not stale), or the step has never started
 * (nothing could have completed it).
 */
export function staleCompletion(event: DagEvent, record: StepRecord): boolean {
  if (event.stepAddedAt !== undefined && event.stepAddedAt.getTime() !== record.addedAt.getTime()) return true;
  const started = record.startedAt?.getTime();
  if (event.stepStartedAt !== undefined && started !== undefined && event.stepStartedAt.getTime() < started) return true;
  return record.status === "pending";
}

/** Whether an event reports a step's success. */
function isDone(event: DagEvent): boolean {
  return event.kind === "completed" && event.status === "done";
}

/** An event waiting for its DAG's lane, with the delivery to settle. */
interface Queued {
  readonly event: DagEvent;
  readonly delivery: Delivery;
}

/** Meta statuses under which events change nothing (a paused DAG's state is picked up on resume). */
const IDLE_STATUSES: ReadonlySet<DagStatus> = new Set<DagStatus>(["canceled", "paused", "done", "failed"]);

/** Deliveries of one event before it is given up (acked) and left to the sweep. */
const EVENT_ATTEMPTS = 5;

/** A running scheduler. Stop it with {@link Scheduler.stop}. */
export class Scheduler {
  readonly #core: WorkflowCore;
  readonly #elector: LeaderElector | undefined;
  readonly #options: Required<Omit<SchedulerOptions, "elector">>;
  /** Events and sweeps of one DAG run one at a time; events queued meanwhile are handled together. */
  readonly #lanes = new DagLanes<Queued>(
    (dagId, batch) => this.#handleBatch(dagId, batch),
    (count) => {
      this.#active -= count;
      for (const wake of this.#idle.splice(0)) wake();
    },
    (dagId, err) => this.#core.logger.warn({ dag_id: dagId, error: (err as Error).message }, "scheduler: unexpected failure on a DAG"),
  );
  /** Steps and edges of the DAGs this process handles events of (see `graph-cache.ts`). */
  readonly #graphs = new GraphCache();
  #active = 0;
  #idle: Array<() => void> = [];
  /** Events received and not settled yet, kept alive by in-progress acks. */
  readonly #held = new HeldEvents();
  #loop: ConsumeLoop | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wasLeader = false;
  #lastSweep = 0;
  #sweeping: Promise<void> | undefined;
  #stopped = false;
  /** One timer per DAG for its earliest signal timeout. */
  readonly #signalTimers = new Map<string, { due: number; timer: NodeJS.Timeout }>();

  /** @internal Use `workflow.startScheduler()`. */
  constructor(core: WorkflowCore, options: SchedulerOptions = {}) {
    this.#core = core;
    this.#elector = options.elector;
    this.#options = {
      sweepCheckIntervalMs: options.sweepCheckIntervalMs ?? 5000,
      sweepIntervalMs: options.sweepIntervalMs ?? 60_000,
      strandedAfterMs: options.strandedAfterMs ?? 600_000,
      orphanedHoldMs: options.orphanedHoldMs ?? 30_000,
      concurrency: options.concurrency ?? 32,
      pullExpiresMs: options.pullExpiresMs ?? 2000,
    };
  }

  /** Opens the event consumer and starts the sweep timer. */
  async start(): Promise<void> {
    const spec = schedulerConsumerSpec(EVENT_ACK_WAIT_MS);
    await this.#core.broker.ensureConsumer(DAG_EVENTS_STREAM, spec);
    await this.#elector?.start();
    this.#loop = new ConsumeLoop({
      broker: this.#core.broker,
      stream: DAG_EVENTS_STREAM,
      consumer: spec,
      room: () => this.#options.concurrency - this.#active,
      roomChanged: () => new Promise<void>((resolve) => this.#idle.push(resolve)),
      onDelivery: (d) => this.#receive(d),
      onError: (err) => this.#core.logger.warn({ error: (err as Error).message }, "scheduler: event pull failed; retrying"),
      onClosed: (err) => this.#core.logger.error({ error: (err as Error).message }, "scheduler: the broker's connection is closed; events are no longer handled (stop the scheduler)"),
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
    for (const { timer } of this.#signalTimers.values()) clearTimeout(timer);
    this.#signalTimers.clear();
    await this.#loop?.stop();
    await Promise.all([this.#lanes.idle(), this.#sweeping]);
    this.#held.close();
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
      this.#core.logger.warn({ subject: delivery.subject, error: (err as Error).message }, "scheduler: undecodable event terminated");
      delivery.term();
      return;
    }
    // The event's lag: from the server storing it (its clock) to now (this process's); at least 0.
    this.#core.telemetry?.schedulerEvent({ dagId: event.dagId, kind: event.kind, lagMs: Math.max(0, Date.now() - delivery.storedAtMs) });
    this.#active++;
    this.#held.hold(delivery);
    this.#lanes.push(event.dagId, { event, delivery });
  }

  /**
   * Handles what queued up for one DAG, in order: each run of consecutive `completed: done` events
   * together, any other event alone. Each event is acked once handled; after a failure it is given
   * back for a retry, or acked and left to the sweep after {@link EVENT_ATTEMPTS} deliveries.
   */
  async #handleBatch(dagId: string, batch: Queued[]): Promise<void> {
    for (let i = 0; i < batch.length; ) {
      let end = i + 1;
      if (isDone(batch[i]!.event)) while (end < batch.length && isDone(batch[end]!.event)) end++;
      const group = batch.slice(i, end);
      i = end;
      try {
        if (group.length === 1) await this.handleEvent(group[0]!.event);
        else await this.#handleDone(dagId, group.map((q) => q.event));
        for (const { delivery } of group) {
          this.#held.release(delivery);
          delivery.ack();
        }
      } catch (err) {
        for (const { event, delivery } of group) {
          const give = delivery.deliveryCount >= EVENT_ATTEMPTS;
          this.#core.logger.warn(
            { dag_id: event.dagId, kind: event.kind, step_id: event.stepId, error: (err as Error).message },
            `scheduler: event handling failed; ${give ? "leaving it to the sweep" : "will retry"}`,
          );
          this.#held.release(delivery);
          if (give) delivery.ack();
          else delivery.nak(250 * delivery.deliveryCount);
        }
      }
    }
  }

  /**
   * Handles one event against the DAG's durable state (reference §3.15 `handleEvent`). A step's
   * successful completion is handled from this process's cached graph of the DAG when it can be
   * (`done-event.ts`); everything else, and whatever that path leaves, from the full state.
   */
  async handleEvent(event: DagEvent): Promise<void> {
    if (isDone(event)) return this.#handleDone(event.dagId, [event]);
    if (event.kind === "step_added") {
      // Before the new step's dependencies are read: no cached graph without it is used after this.
      if (!(await this.#core.store.touchMeta(event.dagId, event.stepId))) return;
    }
    await this.#handleFromState(event.dagId, [event]);
  }

  /**
   * Handles `completed: done` events of one DAG, from the cached graph if it can (a DAG this process
   * has no graph of goes to the full handling at once: the fast path would read the meta only to
   * find that out).
   */
  async #handleDone(dagId: string, events: DagEvent[]): Promise<void> {
    const handled = this.#graphs.has(dagId) ? await handleDoneEvents(this.#core, this.#graphs, dagId, events) : "full";
    if (handled === "handled") return;
    // About to finish: the steps are listed (what finalising a DAG read through its index does anyway).
    await this.#handleFromState(dagId, events, false, handled === "finish");
  }

  /**
   * Loads the whole DAG (refreshing the cached graph) and handles events of it from that state,
   * in order: one event, or several `completed` ones. `force` moves the DAG on even without an
   * event that asks for it (a signal wait's timer); `listing` lists the steps instead of reading them through the meta's index.
   */
  async #handleFromState(dagId: string, events: readonly DagEvent[], force = false, listing = false): Promise<void> {
    // The meta first: events of a DAG that is finished or paused — the late events of a DAG
    // finalised while they queued, say — need none of its steps read.
    const meta = await this.#core.store.getMeta(dagId);
    if (!meta || IDLE_STATUSES.has(meta.value.status)) {
      if (meta?.value.status !== "paused") this.#graphs.drop(dagId);
      return;
    }
    let loaded = await this.#load(meta, listing);
    // An event about a step the index does not hold: list the steps (which also mends the index).
    if (loaded.indexed && events.some((e) => (e.kind === "completed" || e.kind === "step_added") && !loaded.state.steps.has(e.stepId))) {
      loaded = await this.#load(meta, true);
    }
    const progress = new DagProgress(this.#core, loaded);
    const status = progress.meta.status;
    let acted = force;
    for (const event of events) {
      // While pausing, only completions (the drain) and resumes matter; the durable state of added
      // steps and signals is picked up on resume.
      if (status === "pausing" && (event.kind === "step_added" || event.kind === "signal")) continue;
      if (event.kind === "bp_hit" || event.kind === "bp_resumed") continue; // informational
      if (event.kind === "completed") {
        const outcome = outcomeOf(event);
        const record = progress.state.steps.get(event.stepId);
        if (outcome === undefined || record === undefined || staleCompletion(event, record)) continue;
        acted = true;
        // The hook persisted this step's own status before publishing; apply it in memory (a replica
        // may lag), and persist only the steps it cascades to.
        if (event.result !== undefined) progress.noteResult(event.stepId, event.result);
        const applied = applyCompletion(progress.state, event.stepId, outcome, new Date());
        progress.setStep(applied.state.steps.get(event.stepId)!);
        if (outcome.status !== "done") await progress.cascadeFrom(event.stepId);
      } else {
        acted = true;
        if (event.kind === "resumed") await progress.cascadeAll();
      }
    }
    if (!acted) return;
    if (loaded.indexed && allStepsTerminal(progress.state)) await this.#completeIndex(dagId, progress);
    this.#after(dagId, await advance(this.#core, loaded, progress));
  }

  /** Drops a finished DAG's graph; arms a timer for its next signal timeout. */
  #after(dagId: string, advanced: Advanced): void {
    if (advanced.finished) this.#graphs.drop(dagId);
    if (advanced.signalDue !== undefined) this.#armSignalTimer(dagId, advanced.signalDue);
  }

  /**
   * Handles the DAG again when a signal wait of it times out (the sweep is the backstop when this
   * process is gone by then).
   */
  #armSignalTimer(dagId: string, due: number): void {
    const existing = this.#signalTimers.get(dagId);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    const delay = Math.min(Math.max(due - Date.now(), 0) + 5, 2_147_483_647);
    const timer = setTimeout(() => {
      this.#signalTimers.delete(dagId);
      if (this.#stopped) return;
      void this.#lanes.run(dagId, () =>
        this.#handleFromState(dagId, [], true).catch((err: unknown) =>
          this.#core.logger.warn({ dag_id: dagId, error: (err as Error).message }, "scheduler: a signal timeout could not be applied; the sweep will"),
        ),
      );
    }, delay).unref();
    this.#signalTimers.set(dagId, { due, timer });
  }

  /**
   * Loads the DAG whose meta was just read and keeps its graph (dropped for a finished DAG): its
   * steps listed when `listing` — and then those the meta's step index misses are added to it —
   * else read through the index when it has one.
   */
  async #load(meta: Versioned<DagMeta>, listing: boolean): Promise<LoadedDag & { readonly indexed: boolean }> {
    const dagId = meta.value.id;
    const loaded = await this.#core.store.loadFrom(meta, listing ? "list" : "index");
    const status = loaded.state.meta.status;
    if (status === "done" || status === "failed" || status === "canceled") this.#graphs.drop(dagId);
    else this.#graphs.set(dagId, loaded.metaRevision, loaded.state.steps.values());
    const index = meta.value.stepIds;
    if (listing && index !== undefined) await this.#mendIndex(dagId, [...loaded.state.steps.keys()].filter((id) => !index.includes(id)));
    return loaded;
  }

  /**
   * Before a DAG read through its step index may be finalised, its steps are listed: a step the
   * index misses (added by a process that does not keep it, such as ebind for Go) joins the state
   * and the index, so the DAG is not finished without it.
   */
  async #completeIndex(dagId: string, progress: DagProgress): Promise<void> {
    const missing = (await this.#core.store.listSteps(dagId)).filter((s) => !progress.state.steps.has(s.value.stepId));
    for (const s of missing) progress.setStep(s.value, s.revision);
    await this.#mendIndex(dagId, missing.map((s) => s.value.stepId));
  }

  /** Adds steps to the DAG's step index (which moves its meta on: cached graphs of it are not used again). */
  async #mendIndex(dagId: string, stepIds: readonly string[]): Promise<void> {
    for (const id of stepIds) await this.#core.store.touchMeta(dagId, id);
    if (stepIds.length > 0) this.#graphs.drop(dagId);
  }

  async #maybeSweep(): Promise<void> {
    const leader = this.#elector ? this.#elector.isLeader() : true;
    const edge = leader && !this.#wasLeader;
    this.#wasLeader = leader;
    if (!leader) return;
    if (!edge && Date.now() - this.#lastSweep < this.#options.sweepIntervalMs) return;
    await this.sweepNow().catch((err: unknown) => this.#core.logger.warn({ error: (err as Error).message }, "scheduler: sweep failed"));
  }

  async #sweep(): Promise<void> {
    this.#lastSweep = Date.now();
    for (const meta of await this.#core.store.listMetas()) {
      if (this.#stopped) return;
      if (meta.status !== "running" && meta.status !== "pausing" && meta.status !== "paused") continue;
      const work = async (): Promise<void> => {
        const current = await this.#core.store.getMeta(meta.id);
        if (!current) return this.#graphs.drop(meta.id);
        this.#after(meta.id, await sweepDag(this.#core, await this.#load(current, true), this.#options));
      };
      // Serialised with this process's event handling of the same DAG.
      await this.#lanes.run(meta.id, () =>
        work().catch((err: unknown) => this.#core.logger.warn({ dag_id: meta.id, error: (err as Error).message }, "scheduler: sweep of a DAG failed")),
      );
    }
  }
}
