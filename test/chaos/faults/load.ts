/**
 * Continuous load for the fault suite and the soak: plain tasks (`faults.task`) enqueued and DAGs
 * (`faultDag`, nine steps each) submitted, spread over a time span, each awaited and its value
 * checked. Producer-side failures are recorded, never retried into success: an await that rejects
 * (a timeout, a store error) is a lost task or DAG. Free of vitest.
 * @module
 */
import type { EbindError } from "../../../src/task/index.js";
import { WorkflowError } from "../../../src/workflow/index.js";
import { FAULT_LEAVES, faultDag, faultFinalValue, faultsTask, taskValue } from "../../support/handlers/faults.js";
import type { ChaosApp } from "./app.js";

/** Options of {@link Load}. */
export interface LoadOptions {
  /** Distinguishes this load's task values (an integer 1–999,999). */
  readonly seed: number;
  /** Plain tasks to enqueue. */
  readonly tasks: number;
  /** DAGs to submit. */
  readonly dags: number;
  /** Enqueues and submits are spread evenly over this many ms. */
  readonly spreadMs: number;
  /** How long each task's and each DAG's await may take, ms (from its enqueue or submit). */
  readonly awaitTimeoutMs: number;
  /** DAG ids are `<dagPrefix>-<n>`: one subject token. */
  readonly dagPrefix: string;
}

/** What one load saw. Lists name the task or DAG and the error. */
export interface LoadReport {
  readonly tasks: { enqueued: number; ok: number; wrong: string[]; lost: string[]; enqueueRetries: number };
  readonly dags: { submitted: number; ok: number; wrong: string[]; lost: string[]; submitRetries: number };
  /** Ids of the tasks enqueued (each future's task id). */
  readonly taskIds: string[];
  /** Ids of the DAGs submitted. */
  readonly dagIds: string[];
  /** When the last await settled (ms since the epoch). */
  readonly lastSettledAt: number;
}

const messageOf = (err: unknown): string => (err instanceof Error ? `${err.name}${(err as EbindError).code ? `(${String((err as EbindError).code)})` : ""}: ${err.message}` : String(err));

/** Longest wait between tries of a failed enqueue or submit, ms. */
const RETRY_PAUSE_MS = 500;

/** A running load; {@link done} settles when every task and DAG has settled (never rejects). */
export class Load {
  readonly done: Promise<LoadReport>;
  #tasksSettled = 0;
  #dagsSettled = 0;
  readonly #dagIds: string[] = [];

  constructor(
    private readonly app: ChaosApp,
    private readonly options: LoadOptions,
  ) {
    this.done = this.#run();
  }

  /** Ids of the DAGs submitted so far, in order. */
  submittedDags(): string[] {
    return [...this.#dagIds];
  }

  /** Tasks and DAGs settled so far. */
  progress(): { tasks: number; dags: number } {
    return { tasks: this.#tasksSettled, dags: this.#dagsSettled };
  }

  async #run(): Promise<LoadReport> {
    const { tasks, dags, spreadMs } = this.options;
    const report = {
      tasks: { enqueued: 0, ok: 0, wrong: [] as string[], lost: [] as string[], enqueueRetries: 0 },
      dags: { submitted: 0, ok: 0, wrong: [] as string[], lost: [] as string[], submitRetries: 0 },
      taskIds: [] as string[],
      dagIds: this.#dagIds,
      lastSettledAt: 0,
    };
    const settled: Array<Promise<void>> = [];
    const t0 = Date.now();
    const ticks = Math.max(1, Math.ceil(spreadMs / 100));
    let nextTask = 0;
    let nextDag = 0;
    for (let tick = 1; tick <= ticks; tick++) {
      const taskUpTo = Math.floor((tasks * tick) / ticks);
      const dagUpTo = Math.floor((dags * tick) / ticks);
      const batch: Array<Promise<void>> = [];
      for (; nextTask < taskUpTo; nextTask++) batch.push(this.#task(nextTask, report, settled));
      for (; nextDag < dagUpTo; nextDag++) batch.push(this.#dag(nextDag, report, settled));
      await Promise.all(batch);
      const wait = t0 + (tick * spreadMs) / ticks - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all(settled);
    return report;
  }

  /** Enqueues task `i` (retrying a failed enqueue until the await budget is spent) and starts awaiting it. */
  async #task(i: number, report: { tasks: LoadReport["tasks"]; taskIds: string[]; lastSettledAt: number }, settled: Array<Promise<void>>): Promise<void> {
    const { seed, awaitTimeoutMs } = this.options;
    const started = Date.now();
    for (;;) {
      try {
        const future = await this.app.client.enqueueWith(faultsTask, { publishTimeoutMs: 30_000 }, seed, i);
        report.tasks.enqueued++;
        report.taskIds.push(future.id);
        settled.push(
          future.result({ timeoutMs: Math.max(1, awaitTimeoutMs - (Date.now() - started)) }).then(
            (value) => {
              if (value === taskValue(seed, i)) report.tasks.ok++;
              else report.tasks.wrong.push(`task ${i} (${future.id}): ${JSON.stringify(value)}, expected ${taskValue(seed, i)}`);
            },
            (err: unknown) => {
              report.tasks.lost.push(`task ${i} (${future.id}): ${messageOf(err)}`);
            },
          ).finally(() => {
            this.#tasksSettled++;
            report.lastSettledAt = Date.now();
          }),
        );
        return;
      } catch (err) {
        if (Date.now() - started > awaitTimeoutMs) {
          report.tasks.lost.push(`task ${i}: enqueue kept failing for ${awaitTimeoutMs} ms: ${messageOf(err)}`);
          this.#tasksSettled++;
          return;
        }
        report.tasks.enqueueRetries++;
        await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
      }
    }
  }

  /** Submits DAG `n` (retrying a failed submit; a retry that finds the DAG stored counts as submitted) and starts awaiting it. */
  async #dag(n: number, report: { dags: LoadReport["dags"]; dagIds: string[]; lastSettledAt: number }, settled: Array<Promise<void>>): Promise<void> {
    const { awaitTimeoutMs, dagPrefix } = this.options;
    const id = `${dagPrefix}-${n}`;
    const started = Date.now();
    let built = faultDag(this.app.workflow, id, n);
    for (let attempt = 1; ; attempt++) {
      try {
        // A builder that went through a failed submit refuses another ("already submitted"): each try builds anew.
        if (attempt > 1) built = faultDag(this.app.workflow, id, n);
        await this.app.workflow.submit(built.dag);
        break;
      } catch (err) {
        // A retry finding the DAG: the failed try had stored it after all.
        if (attempt > 1 && err instanceof WorkflowError && err.code === "stale_revision") break;
        if (Date.now() - started > awaitTimeoutMs) {
          report.dags.lost.push(`dag ${id}: submit kept failing for ${awaitTimeoutMs} ms: ${messageOf(err)}`);
          this.#dagsSettled++;
          return;
        }
        report.dags.submitRetries++;
        await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
      }
    }
    report.dags.submitted++;
    report.dagIds.push(id);
    settled.push(
      (async () => {
        try {
          const value = await this.app.workflow.await(built.final, { timeoutMs: Math.max(1, awaitTimeoutMs - (Date.now() - started)) });
          const meta = await this.app.workflow.awaitDag(id, { timeoutMs: 30_000 });
          if (value !== faultFinalValue(n)) report.dags.wrong.push(`dag ${id}: final ${JSON.stringify(value)}, expected ${faultFinalValue(n)}`);
          else if (meta.status !== "done") report.dags.wrong.push(`dag ${id}: status ${meta.status}`);
          else report.dags.ok++;
        } catch (err) {
          // Say what became of the DAG itself, to tell a failed await from a stuck DAG.
          const after = await this.app.workflow.awaitDag(id, { timeoutMs: 30_000 }).then(
            (m) => `the DAG itself ended ${m.status}`,
            (e: unknown) => `the DAG itself: ${messageOf(e)}`,
          );
          report.dags.lost.push(`dag ${id}: ${messageOf(err)} (${after})`);
        } finally {
          this.#dagsSettled++;
          report.lastSettledAt = Date.now();
        }
      })(),
    );
  }
}

/** Steps per fault DAG. */
export const STEPS_PER_DAG = FAULT_LEAVES + 3;
