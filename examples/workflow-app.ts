/**
 * The wiring the workflow examples (06–17) share, in one call: a backend, a registry of the
 * example's handlers, the workflow layer, a worker that runs DAG steps and the scheduler that starts
 * them; `close()` stops them all, in order.
 *
 * ```ts
 * const { lines, say } = recorder(out);
 * const app = await openWorkflowApp({ handlers: [add, double], say, worker: { concurrency: 4 } });
 * try {
 *   const dag = app.workflow.dag();
 *   …
 * } finally {
 *   await app.close();
 * }
 * ```
 *
 * It is what the workflow skeleton in `examples/README.md` spells out, and nothing more: copy that
 * into a program of your own rather than this module.
 * @module
 */
import type { Broker } from "../src/broker/index.js";
import { openDevBackend, type DevBackend, type DevBackendOptions } from "../src/dev/backend.js";
import { Registry, type HandlerFn } from "../src/task/index.js";
import { Worker, type WorkerOptions } from "../src/worker/index.js";
import { Workflow, type Scheduler, type SchedulerOptions } from "../src/workflow/index.js";

/**
 * The examples' pull expiry, for the worker and the scheduler (the defaults are longer):
 * `worker.close()` and `scheduler.stop()` wait for the pull in progress to expire, so a shorter
 * pull ends the program sooner.
 */
export const PULL_EXPIRES_MS = 1_000;

/** Options of {@link openWorkflowApp}. */
export interface WorkflowAppOptions {
  /** Every handler the example's DAGs run, registered with one {@link Registry} the workers share. */
  readonly handlers: readonly HandlerFn[];
  /** Where the backend is named (`ebind: backend: …`, the first line every example prints). */
  readonly say: (line: string) => void;
  /** Backend options besides `report`, e.g. a kept `storeDir` (11). */
  readonly backend?: Omit<DevBackendOptions, "report"> | undefined;
  /** The worker's own options (`workerId`, `concurrency`, claims…); see {@link WorkflowApp.startWorker}. */
  readonly worker?: Omit<WorkerOptions, "stepHook"> | undefined;
  /**
   * The scheduler's options (`pullExpiresMs` defaults to {@link PULL_EXPIRES_MS}), or `false` to
   * start none now: {@link WorkflowApp.startScheduler} starts it later (11's first run has none).
   */
  readonly scheduler?: SchedulerOptions | false | undefined;
}

/** What {@link openWorkflowApp} opened. */
export interface WorkflowApp {
  /** The backend (its `kind` and `description` say which one was chosen). */
  readonly backend: DevBackend;
  readonly broker: Broker;
  readonly workflow: Workflow;
  /** The worker opened with the app. */
  readonly worker: Worker;
  /** The scheduler, once started (at once unless opened with `scheduler: false`). */
  readonly scheduler: Scheduler | undefined;
  /**
   * Starts one more worker for the same handlers, wired to the workflow like the first: `options`
   * plus `stepHook: workflow.stepHook` (records each step's outcome, gates its start), the
   * workflow's middleware first in `middleware` (`dagContext(ctx)` in step handlers), and
   * `pullExpiresMs` {@link PULL_EXPIRES_MS} unless `options` says otherwise. `close()` closes it.
   */
  startWorker(options?: Omit<WorkerOptions, "stepHook">): Promise<Worker>;
  /** Starts the scheduler (once; `pullExpiresMs` as for workers). `close()` stops it. */
  startScheduler(options?: SchedulerOptions): Promise<Scheduler>;
  /**
   * Closes the workers (they drain: running handlers finish, their outcomes are recorded) and stops
   * the scheduler, then closes the workflow and the backend (stopping an embedded nats-server).
   * Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Opens a backend (`openDevBackend`: `NATS_URL`, an embedded nats-server or memory), registers
 * `handlers`, creates the {@link Workflow}, starts a worker (`options.worker`) and the scheduler.
 * When a part fails to start, what was opened is closed again before the error is thrown.
 */
export async function openWorkflowApp(options: WorkflowAppOptions): Promise<WorkflowApp> {
  const backend = await openDevBackend({ ...options.backend, report: options.say });
  const registry = new Registry();
  let workflow: Workflow;
  try {
    for (const handler of options.handlers) registry.register(handler);
    workflow = await Workflow.create(backend.broker); // the KV bucket ebind-dags, the event stream
  } catch (err) {
    await backend.close();
    throw err;
  }

  const workers: Worker[] = [];
  let scheduler: Scheduler | undefined;
  const startWorker = async (own: Omit<WorkerOptions, "stepHook"> = {}): Promise<Worker> => {
    const worker = await Worker.start(backend.broker, registry, {
      pullExpiresMs: PULL_EXPIRES_MS,
      ...own,
      stepHook: workflow.stepHook,
      middleware: [workflow.middleware, ...(own.middleware ?? [])],
    });
    workers.push(worker);
    return worker;
  };
  const startScheduler = async (own: SchedulerOptions = {}): Promise<Scheduler> => {
    if (scheduler !== undefined) throw new Error("the scheduler is already started");
    scheduler = await workflow.startScheduler({ pullExpiresMs: PULL_EXPIRES_MS, ...own });
    return scheduler;
  };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      try {
        await Promise.all([...workers.map((w) => w.close()), scheduler?.stop()]);
        workflow.close();
      } finally {
        await backend.close();
      }
    })());

  try {
    const worker = await startWorker(options.worker);
    if (options.scheduler !== false) await startScheduler(options.scheduler);
    return {
      backend,
      broker: backend.broker,
      workflow,
      worker,
      get scheduler() {
        return scheduler;
      },
      startWorker,
      startScheduler,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
