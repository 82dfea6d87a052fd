/**
 * Test wiring for workflows over one backend: broker, streams, workflow, registry, workers and
 * schedulers, all closed after each test.
 * @module
 */
import { silentLogger, type Broker } from "../../src/broker/index.js";
import { Registry } from "../../src/task/index.js";
import { Worker, type WorkerOptions } from "../../src/worker/index.js";
import { alwaysLeader, Workflow, type Scheduler, type SchedulerOptions } from "../../src/workflow/index.js";
import { openFreshBroker, useCleanups, type BackendUnderTest } from "./backends.js";

export interface WorkflowEnv {
  broker: Broker;
  registry: Registry;
  workflow: Workflow;
  startWorker: (options?: WorkerOptions) => Promise<Worker>;
  startScheduler: (options?: SchedulerOptions) => Promise<Scheduler>;
  /** Worker + scheduler with defaults, for most tests. */
  run: (options?: WorkerOptions) => Promise<{ worker: Worker; scheduler: Scheduler }>;
  /** Polls until the DAG's status is `status`. */
  untilStatus: (dagId: string, status: string, timeoutMs?: number) => Promise<void>;
}

export function useWorkflowEnv(backend: BackendUnderTest): () => Promise<WorkflowEnv> {
  const cleanups = useCleanups();
  return async () => {
    const broker = await openFreshBroker(backend, cleanups);
    const workflow = await Workflow.create(broker, { logger: silentLogger });
    cleanups.push(async () => workflow.close());
    await broker.purgeStream("EBIND_DAG_EVENTS");
    const registry = new Registry();
    const startWorker = async (options: WorkerOptions = {}): Promise<Worker> => {
      const w = await Worker.start(broker, registry, { logger: silentLogger, pullExpiresMs: 1000, stepHook: workflow.stepHook, middleware: [workflow.middleware], ...options });
      cleanups.push(() => w.close());
      return w;
    };
    const startScheduler = async (options: SchedulerOptions = {}): Promise<Scheduler> => {
      const s = await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000, ...options });
      cleanups.push(() => s.stop());
      return s;
    };
    return {
      broker,
      registry,
      workflow,
      startWorker,
      startScheduler,
      run: async (options) => ({ worker: await startWorker(options), scheduler: await startScheduler() }),
      untilStatus: async (dagId, status, timeoutMs = 10_000) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const info = await workflow.dagInfo(dagId);
          if (info.meta.status === status) return;
          if (Date.now() > deadline) throw new Error(`DAG ${dagId} is ${info.meta.status}, not ${status}, after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
    };
  };
}
