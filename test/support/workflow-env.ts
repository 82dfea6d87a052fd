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

/** A workflow instance on one connection, with workers and schedulers bound to it. */
export interface WorkflowInstance {
  broker: Broker;
  workflow: Workflow;
  /** A worker running the env's registry's handlers for this workflow. */
  startWorker: (options?: WorkerOptions) => Promise<Worker>;
  startScheduler: (options?: SchedulerOptions) => Promise<Scheduler>;
}

export interface WorkflowEnv extends WorkflowInstance {
  registry: Registry;
  /** Worker + scheduler with defaults, for most tests. */
  run: (options?: WorkerOptions) => Promise<{ worker: Worker; scheduler: Scheduler }>;
  /** Polls until the DAG's status is `status`. */
  untilStatus: (dagId: string, status: string, timeoutMs?: number) => Promise<void>;
  /**
   * "Another process": a second {@link Workflow} on a second connection on NATS (on memory, over the
   * same in-process broker), with its own startWorker/startScheduler on the same registry.
   */
  otherProcess: () => Promise<WorkflowInstance>;
}

export function useWorkflowEnv(backend: BackendUnderTest): () => Promise<WorkflowEnv> {
  const cleanups = useCleanups();
  /** A Workflow on `broker` and its worker/scheduler starters; everything is closed after the test. */
  const processOn = async (broker: Broker, registry: Registry): Promise<WorkflowInstance> => {
    const workflow = await Workflow.create(broker, { logger: silentLogger });
    cleanups.push(async () => workflow.close());
    return {
      broker,
      workflow,
      startWorker: async (options: WorkerOptions = {}): Promise<Worker> => {
        const w = await Worker.start(broker, registry, { logger: silentLogger, pullExpiresMs: 1000, stepHook: workflow.stepHook, middleware: [workflow.middleware], ...options });
        cleanups.push(() => w.close());
        return w;
      },
      startScheduler: async (options: SchedulerOptions = {}): Promise<Scheduler> => {
        const s = await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000, ...options });
        cleanups.push(() => s.stop());
        return s;
      },
    };
  };
  return async () => {
    const broker = await openFreshBroker(backend, cleanups);
    const registry = new Registry();
    const main = await processOn(broker, registry);
    await broker.purgeStream("EBIND_DAG_EVENTS");
    return {
      ...main,
      registry,
      run: async (options) => ({ worker: await main.startWorker(options), scheduler: await main.startScheduler() }),
      untilStatus: async (dagId, status, timeoutMs = 10_000) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const info = await main.workflow.dagInfo(dagId);
          if (info.meta.status === status) return;
          if (Date.now() > deadline) throw new Error(`DAG ${dagId} is ${info.meta.status}, not ${status}, after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      otherProcess: async () => {
        let other = broker;
        if (backend.name !== "memory") {
          other = await backend.open();
          cleanups.push(() => other.close());
        }
        return processOn(other, registry);
      },
    };
  };
}
