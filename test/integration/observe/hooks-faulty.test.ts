/**
 * A telemetry whose every hook throws breaks nothing (issue 17): tasks run, fail to the DLQ, are
 * requeued, DAGs finish; each component logs each hook's failure once. A telemetry option that is
 * not an object of functions is refused at construction. On the memory backend (the wiring is the
 * same on NATS, tested in hooks-taskqueue / hooks-workflow).
 */
import { describe, expect, it } from "vitest";
import { ensureStreams, type Telemetry } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { listDeadLetters, requeueDeadLetter } from "../../../src/dlq/index.js";
import { memoryBroker } from "../../../src/memory/index.js";
import { defineHandler, Registry, TaskError } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { alwaysLeader, Workflow } from "../../../src/workflow/index.js";
import { useCleanups } from "../../support/backends.js";
import { recordingLogger } from "../../support/logger.js";
import { eventually } from "../../support/queue.js";
import { add, double } from "../../support/handlers/workflow.js";

function boom(): never {
  throw new Error("telemetry is broken");
}

const broken: Telemetry = { publish: boom, attempt: boom, deadLetter: boom, dagSubmit: boom, schedulerEvent: boom };

/** Scopes that throw from every method (run throws before calling its function). */
const brokenScopes: Telemetry = {
  publish: () => ({ end: boom }),
  attempt: () => ({ run: boom, end: boom }),
  dagSubmit: () => ({ end: boom }),
};

describe("telemetry hooks that throw [memory]", () => {
  const cleanups = useCleanups();

  const expectedWarnings = {
    hooks: ["client.telemetry:publish", "worker.telemetry:attempt", "worker.telemetry:deadLetter", "requeue.telemetry:publish", "workflow.telemetry:dagSubmit", "workflow.telemetry:publish", "workflow.telemetry:schedulerEvent"],
    scopes: ["client.telemetry:publish.end", "worker.telemetry:attempt.run", "worker.telemetry:attempt.end", "requeue.telemetry:publish.end", "workflow.telemetry:publish.end", "workflow.telemetry:dagSubmit.end"],
  };
  for (const [what, telemetry] of [
    ["hooks", broken],
    ["scopes", brokenScopes],
  ] as const) {
    it(`throwing ${what}: tasks succeed, retry, dead-letter and requeue; a DAG finishes; each failure logged once per hook`, async () => {
      const broker = memoryBroker();
      cleanups.push(() => broker.close());
      await ensureStreams(broker);
      const log = recordingLogger();
      let failing = true;
      const flaky = defineHandler("faulty.flaky", async (_ctx, n: number) => {
        if (failing) throw new TaskError("nope", "not yet", { retryable: true });
        return n + 1;
      });
      const registry = new Registry();
      registry.register(flaky);
      registry.register(add);
      registry.register(double);
      const workflow = await Workflow.create(broker, { logger: log, telemetry });
      cleanups.push(async () => workflow.close());
      const worker = await Worker.start(broker, registry, { logger: log, telemetry, stepHook: workflow.stepHook, middleware: [workflow.middleware] });
      cleanups.push(() => worker.close());
      const scheduler = await workflow.startScheduler({ elector: alwaysLeader });
      cleanups.push(() => scheduler.stop());
      const client = await Client.create(broker, { logger: log, telemetry });
      cleanups.push(() => client.close());

      const future = await client.enqueueWith(flaky, { retryPolicy: { initialIntervalMs: 5, maximumAttempts: 2 } }, 1);
      await expect(future.result({ timeoutMs: 5000 })).rejects.toThrow("not yet");
      const [letter] = await listDeadLetters(broker);
      failing = false;
      await requeueDeadLetter(broker, letter!.seq, { telemetry, logger: log });
      await eventually(async () => (await listDeadLetters(broker)).length === 0 && worker.active === 0, "the requeued task ran");
      expect(await (await client.enqueue(flaky, 41)).result({ timeoutMs: 5000 })).toBe(42);

      const dag = workflow.dag();
      const a = dag.step("a", add, 1, 2);
      dag.step("b", double, a.ref());
      await workflow.submit(dag);
      expect(await workflow.awaitById(dag.id, "b", { timeoutMs: 5000 })).toBe(6);

      const warned = log.lines.filter(([level]) => level === "warn").map(([, message]) => message.split(":")[0] + ":" + String(/hook (\S+)/.exec(message)?.[1]));
      // Once per component and hook, however many calls failed.
      expect(warned).toEqual(expectedWarnings[what]);
    });
  }

  it("a telemetry option that is not an object of functions is refused, naming it", async () => {
    const broker = memoryBroker();
    cleanups.push(() => broker.close());
    await ensureStreams(broker);
    const bad = { attempt: 1 } as unknown as Telemetry;
    await expect(Client.create(broker, { telemetry: bad })).rejects.toThrow("client.telemetry.attempt must be a function, got number");
    expect(() => new Worker(broker, new Registry(), { telemetry: bad })).toThrow("worker.telemetry.attempt must be a function, got number");
    await expect(Workflow.create(broker, { telemetry: "x" as never })).rejects.toThrow("workflow.telemetry must be an object of hooks");
    await expect(requeueDeadLetter(broker, 1, { telemetry: bad })).rejects.toThrow("requeue.telemetry.attempt must be a function, got number");
  });
});
