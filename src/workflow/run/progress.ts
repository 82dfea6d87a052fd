/**
 * Moving a DAG forward from its durable state — shared by event handling and the repair sweep:
 * persist cascaded skips, fail steps whose signal wait timed out, start every ready step, mark
 * breakpoint stops (one `bp_hit` each) and signal waits, finalise the DAG when every step is
 * terminal. Each write is a compare-and-set; losing a race to another scheduler is harmless.
 * @module
 */
import type { WorkflowCore } from "../store/core.js";
import { CAS_ATTEMPTS } from "../store/core.js";
import { casStep } from "../store/cas.js";
import { publishEvent } from "../store/events.js";
import { settlePending, startSteps, type ArgContext } from "./enqueue.js";
import { WorkflowError } from "../model/errors.js";
import {
  allStepsTerminal,
  blockedAtBefore,
  cascadeSkipCauses,
  deriveFinalStatus,
  holdingAtAfter,
  isAfterHolding,
  isBeforeGated,
  isSignalGated,
  readyToRun,
  skipMessage,
  waitingOnSignals,
  type DagState,
} from "../plan/index.js";
import { StepErrorKind, type DagMeta, type StepRecord } from "../model/records.js";
import { finishTime, isTerminal } from "../model/records.js";
import type { LoadedDag } from "../store/store.js";

/** When a step's signal wait times out (ms since the epoch), or undefined when it has no running timeout. */
export function signalDue(step: StepRecord): number | undefined {
  if (step.status !== "pending" || !step.signalTimeoutMs || step.signalWaitSince === undefined) return undefined;
  return step.signalWaitSince.getTime() + step.signalTimeoutMs;
}

/** A DAG's state being worked on, with the revisions needed for compare-and-set. */
export class DagProgress {
  state: DagState;
  readonly #revisions: Map<string, number>;
  #metaRevision: number;
  /** Results of done steps known without a read (carried by their `completed` events), by step id. */
  readonly #carried = new Map<string, string>();

  constructor(
    private readonly core: WorkflowCore,
    loaded: LoadedDag,
  ) {
    this.state = loaded.state;
    this.#revisions = new Map(loaded.stepRevisions);
    this.#metaRevision = loaded.metaRevision;
  }

  get meta(): DagMeta {
    return this.state.meta;
  }

  /** Replaces one step in the in-memory state (after a write, or to reflect an event). */
  setStep(record: StepRecord, revision?: number): void {
    const steps = new Map(this.state.steps);
    steps.set(record.stepId, record);
    this.state = { ...this.state, steps };
    if (revision !== undefined) this.#revisions.set(record.stepId, revision);
  }

  #start(stepId: string): { value: StepRecord; revision: number } | null {
    const record = this.state.steps.get(stepId);
    return record ? { value: record, revision: this.#revisions.get(stepId) ?? 0 } : null;
  }

  /** Persists as skipped every step a failed/skipped/canceled `fromStepId` cascades to (reference §3.13). */
  async cascadeFrom(fromStepId: string): Promise<string[]> {
    const skipped: string[] = [];
    for (const { stepId, cause } of cascadeSkipCauses(this.state, fromStepId)) {
      if (await this.#writeSkipped(stepId, skipMessage(this.state.steps.get(cause), cause))) skipped.push(stepId);
    }
    return skipped;
  }

  /** Re-applies every cascade (after a lost event, or on resume). */
  async cascadeAll(): Promise<void> {
    for (const step of [...this.state.steps.values()]) {
      if (step.status === "failed" || step.status === "skipped" || step.status === "canceled") await this.cascadeFrom(step.stepId);
    }
  }

  async #writeSkipped(stepId: string, message: string): Promise<boolean> {
    const start = this.#start(stepId);
    if (!start) return false;
    const written = await casStep(this.core.store, this.meta.id, stepId, start, (r) =>
      isTerminal(r.status) ? undefined : { ...r, status: "skipped", errorMessage: message, finishedAt: finishTime(r) },
    );
    if (!written) return false;
    this.setStep(written.value, written.revision);
    return true;
  }

  /** Remembers a done step's stored result (from its `completed` event): starting its dependents will not read it. */
  noteResult(stepId: string, raw: string): void {
    this.#carried.set(stepId, raw);
  }

  /** Starts every ready step (at once); returns how many tasks were published. */
  async startReady(): Promise<number> {
    if (this.meta.status !== "running") return 0;
    const ctx: ArgContext = {
      step: (id) => this.state.steps.get(id),
      signal: (name) => this.state.signals.get(name)?.payload,
      knownResult: (id) => this.#carried.get(id),
    };
    const ready = readyToRun(this.state).map((id) => ({ value: this.state.steps.get(id)!, revision: this.#revisions.get(id) ?? 0 }));
    return startSteps(this.core, this.meta, ready, ctx);
  }

  /**
   * Marks every breakpoint stop not marked yet (reference §3.19): the advisory `blocked` state and
   * its time, by compare-and-set, and — only for the writer that won — one `bp_hit` event with the
   * position's full label list. A `released` position is never marked again.
   */
  async markBreakpoints(): Promise<void> {
    if (!(this.meta.activeBreakpoints?.length ?? 0)) return;
    for (const id of blockedAtBefore(this.state)) {
      if (this.state.steps.get(id)!.bpBefore !== undefined) continue;
      await this.#mark(id, "before", (r) => r.status === "pending" && r.bpBefore === undefined && isBeforeGated(r, this.state));
    }
    for (const id of holdingAtAfter(this.state)) {
      if (this.state.steps.get(id)!.bpAfter !== undefined) continue;
      await this.#mark(id, "after", (r) => r.bpAfter === undefined && isAfterHolding(r, this.state));
    }
  }

  async #mark(stepId: string, position: "before" | "after", still: (r: StepRecord) => boolean): Promise<void> {
    const start = this.#start(stepId);
    if (!start) return;
    const written = await casStep(this.core.store, this.meta.id, stepId, start, (r) =>
      still(r) ? { ...r, ...(position === "before" ? { bpBefore: "blocked" as const } : { bpAfter: "blocked" as const }), bpBlockedAt: new Date() } : undefined,
    );
    if (!written) return;
    this.setStep(written.value, written.revision);
    const labels = position === "before" ? written.value.breakBefore : written.value.breakAfter;
    await publishEvent(this.core.broker, { kind: "bp_hit", dagId: this.meta.id, stepId, bpPosition: position, bpLabels: labels });
  }

  /**
   * Starts the clock of every signal wait with a timeout whose step now waits with its dependencies
   * satisfied (writes `signal_wait_since`).
   * @returns the earliest time (ms since the epoch) a wait of this DAG times out, if any.
   */
  async markSignalWaits(now: Date = new Date()): Promise<number | undefined> {
    for (const id of waitingOnSignals(this.state)) {
      const step = this.state.steps.get(id)!;
      // The clock runs while the step waits only for its signals: not while held, nor at its breakpoint.
      if (!step.signalTimeoutMs || step.signalWaitSince !== undefined || step.held || isBeforeGated(step, this.state)) continue;
      const start = this.#start(id)!;
      const written = await casStep(this.core.store, this.meta.id, id, start, (r) =>
        r.status === "pending" && !r.held && r.signalWaitSince === undefined ? { ...r, signalWaitSince: now } : undefined,
      );
      if (written) this.setStep(written.value, written.revision);
    }
    let due: number | undefined;
    for (const step of this.state.steps.values()) {
      const at = signalDue(step);
      if (at !== undefined && isSignalGated(step, this.state)) due = due === undefined ? at : Math.min(due, at);
    }
    return due;
  }

  /**
   * Fails every step whose signal wait has timed out (kind `signal_timeout`) and applies the
   * cascade; a held step (the DAG was paused) is left until it is released.
   * @returns the ids failed now.
   */
  async expireSignalWaits(now: number = Date.now()): Promise<string[]> {
    const expired: string[] = [];
    for (const step of [...this.state.steps.values()]) {
      const due = signalDue(step);
      if (due === undefined || due > now || step.held || isBeforeGated(step, this.state) || !isSignalGated(step, this.state)) continue;
      const missing = step.waitSignals.filter((name) => !this.state.signals.has(name));
      const message = `no signal ${missing.map((n) => JSON.stringify(n)).join(", ")} within ${step.signalTimeoutMs} ms`;
      const start = this.#start(step.stepId)!;
      const written = await settlePending(this.core, start.value, start.revision, { status: "failed", errorKind: StepErrorKind.SignalTimeout, errorMessage: message });
      if (!written) continue;
      this.setStep({ ...step, status: "failed", errorKind: StepErrorKind.SignalTimeout, errorMessage: message });
      this.#revisions.delete(step.stepId); // unknown now: a later write re-reads
      await this.cascadeFrom(step.stepId);
      expired.push(step.stepId);
    }
    return expired;
  }

  /**
   * Writes the DAG's final status once every step is terminal (reference §3.14): from `running`, and
   * — unlike the reference's event path — from `pausing` and `paused` too: a DAG with nothing left
   * to hold ends at once (issue 11).
   */
  async finalize(): Promise<DagMeta["status"] | undefined> {
    for (let attempt = 1; ; attempt++) {
      if (!allStepsTerminal(this.state)) return undefined;
      const status = this.meta.status;
      if (status !== "running" && status !== "pausing" && status !== "paused") return undefined;
      const next: DagMeta = { ...this.meta, status: deriveFinalStatus(this.state) };
      try {
        this.#metaRevision = await this.core.store.updateMeta(next, this.#metaRevision);
        this.state = { ...this.state, meta: next };
        return next.status;
      } catch (err) {
        if (!(err instanceof WorkflowError && err.code === "stale_revision") || attempt >= CAS_ATTEMPTS) throw err;
        const fresh = await this.core.store.getMeta(this.meta.id);
        if (!fresh) return undefined;
        this.state = { ...this.state, meta: fresh.value };
        this.#metaRevision = fresh.revision;
      }
    }
  }
}
