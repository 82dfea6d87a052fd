/**
 * Awaits across a server outage (issue 16): an await issued while the server is down, or in the
 * first moments after it restarts, waits for the DAG instead of rejecting with the store's raw
 * `kv ebind-dags get <dag>.meta: timeout`; it rejects only at the caller's own timeout, and that
 * rejection says the server was unreachable.
 */
import { expect, it } from "vitest";
import { connectNats } from "../../../src/nats/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { add, slowValue } from "../../support/handlers/workflow.js";

describeNats("workflow: awaits across a server outage", () => {
  const node = useNatsNode();
  const env = useWorkflowEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });

  it("awaits issued while the server is down resolve once it is back and the DAG ends", async () => {
    const { workflow, registry, run } = await env();
    registry.register(slowValue);
    registry.register(add);
    await run();
    const dag = workflow.dag();
    const slow = dag.step("slow", slowValue, 1500, "v");
    dag.step("after", add, 1, 2).after(slow);
    await workflow.submit(dag);

    await node().kill("SIGKILL");
    // Issued with the server gone: every read fails until it is back.
    const step = workflow.awaitById(dag.id, "after", { timeoutMs: 60_000 });
    const whole = workflow.awaitDag(dag.id, { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 1500));
    await node().restart();
    // And issued in the first moments after the restart.
    const early = workflow.awaitDag(dag.id, { timeoutMs: 60_000 });
    expect(await step).toBe(3);
    expect((await whole).status).toBe("done");
    expect((await early).status).toBe("done");
  });

  it("an await whose server stays down rejects at its own timeout, saying the server was unreachable", async () => {
    const { workflow, registry, run } = await env();
    registry.register(add);
    await run();
    const dag = workflow.dag();
    dag.step("a", add, 1, 2);
    await workflow.submit(dag);
    await workflow.awaitDag(dag.id, { timeoutMs: 10_000 });
    await node().kill("SIGKILL");
    try {
      const err = await workflow.awaitDag("never-submitted", { timeoutMs: 2500 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "timeout" });
      expect((err as Error).message).toMatch(/^workflow: DAG never-submitted did not end within 2500 ms \(the server was unreachable: .+\)$/);
    } finally {
      await node().restart();
    }
  });
});
