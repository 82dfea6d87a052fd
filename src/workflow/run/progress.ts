/**
 * Moving a DAG forward from its durable state — shared by event handling and the repair sweep:
 * persist cascaded skips, start every ready step, finalise the DAG when every step is terminal.
 * Each write is a compare-and-set; losing a race to another scheduler is harmless.
 * @module
 */
import type { WorkflowCore } from "../store/core.js";
import { CAS_ATTEMPTS } from "../store/core.js";
import { casStep } from "../store/cas.js";
import { startSteps, type ArgContext } from "./enqueue.js";
import { WorkflowError } from "../model/errors.js";
import { cascadeSkips, readyToRun, terminal, type DagState } from "../plan/index.js";
import type { DagMeta, StepRecord } from "../model/records.js";
import { isTerminal } from "../model/records.js";
import type { LoadedDag } from "../store/store.js";

/** A DAG's state being worked on, with the revisions needed for compare-and-set. */
export class DagProgress {
  state: DagState;
  readonly #revisions: Map<string, number>;
  #metaRevision: number;

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

  /** Persists as skipped every step a failed/skipped/canceled `fromStepId` cascades to (reference §3.13). */
  async cascadeFrom(fromStepId: string): Promise<string[]> {
    const skipped: string[] = [];
    for (const id of cascadeSkips(this.state, fromStepId)) {
      if (await this.#writeSkipped(id)) skipped.push(id);
    }
    return skipped;
  }

  /** Re-applies every cascade (after a lost event, or on resume). */
  async cascadeAll(): Promise<void> {
    for (const step of [...this.state.steps.values()]) {
      if (step.status === "failed" || step.status === "skipped") await this.cascadeFrom(step.stepId);
    }
  }

  async #writeSkipped(stepId: string): Promise<boolean> {
    const record = this.state.steps.get(stepId);
    if (!record) return false;
    const start = { value: record, revision: this.#revisions.get(stepId) ?? 0 };
    const written = await casStep(this.core.store, this.meta.id, stepId, start, (r) =>
      isTerminal(r.status) ? undefined : { ...r, status: "skipped", finishedAt: new Date() },
    );
    if (!written) return false;
    this.setStep(written.value, written.revision);
    return true;
  }

  /** Starts every ready step (at once); returns how many tasks were published. */
  async startReady(): Promise<number> {
    if (this.meta.status !== "running") return 0;
    const ctx: ArgContext = {
      step: (id) => this.state.steps.get(id),
      signal: (name) => this.state.signals.get(name)?.payload,
    };
    const ready = readyToRun(this.state).map((id) => ({ value: this.state.steps.get(id)!, revision: this.#revisions.get(id) ?? 0 }));
    return startSteps(this.core, this.meta, ready, ctx);
  }

  /** Writes the DAG's final status once every step is terminal (reference §3.14). */
  async finalize(): Promise<DagMeta["status"] | undefined> {
    for (let attempt = 1; ; attempt++) {
      const verdict = terminal(this.state);
      if (!verdict.final || verdict.status === this.meta.status) return undefined;
      if (this.meta.status !== "running" && this.meta.status !== "paused") return undefined;
      const next: DagMeta = { ...this.meta, status: verdict.status };
      try {
        this.#metaRevision = await this.core.store.updateMeta(next, this.#metaRevision);
        this.state = { ...this.state, meta: next };
        return verdict.status;
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
