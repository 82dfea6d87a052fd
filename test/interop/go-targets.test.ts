/**
 * Issue 15, part b: targets and claims across languages (reference §3.9, §2.4): a task targeted
 * from one language runs on a worker of the other that holds the claim, through the per-claim
 * durable `ebind-targets-<b64url(claim)>`.
 */
import { expect, it } from "vitest";
import { TASK_STREAM } from "../../src/broker/index.js";
import { connectNats } from "../../src/nats/index.js";
import { taskRef } from "../../src/task/index.js";
import { describeGo, runGo, useGoProcesses } from "../support/go.js";
import { useNatsNode } from "../support/nats.js";
import { expectEmpty, useQueueEnv } from "../support/queue.js";
import { whoAmI } from "../support/handlers/interop.js";

const WhoAmI = taskRef<(ctx: unknown) => Promise<string>>("interop.WhoAmI");

describeGo("interop: targets and claims across languages", () => {
  const node = useNatsNode();
  const env = useQueueEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });
  const startGo = useGoProcesses();

  it("tasks a TypeScript producer targets at a claim and at worker:<id> run on the Go worker holding them", async () => {
    const { broker, client } = await env();
    const go = await startGo(["worker", "--url", node().url, "--id", "go-gpu", "--claims", "gpu, primary"]);
    expect(go.lines[0]).toMatchObject({ event: "ready", claims: ["gpu", "primary", "worker:go-gpu"] });
    const byClaim = await Promise.all(Array.from({ length: 5 }, () => client.enqueueWith(WhoAmI, { target: "gpu" })));
    const byId = await client.enqueueWith(WhoAmI, { target: "worker:go-gpu" });
    for (const f of [...byClaim, byId]) expect(await f.result({ timeoutMs: 10_000 })).toBe("go-gpu");
    // The worker prints before it responds, but its stdout may reach us after the response.
    await go.waitFor(() => go.lines.filter((l) => l.event === "task").length >= 6, "six task lines");
    const runs = go.lines.filter((l) => l.event === "task");
    expect(new Set(runs.map((l) => l.subject))).toEqual(new Set(["TASKS_TARGET.Z3B1.interop.WhoAmI", "TASKS_TARGET.d29ya2VyOmdvLWdwdQ.interop.WhoAmI"]));
    // The owner's first execution is attempt 1: no wrong-target hand-backs.
    expect(runs.every((l) => l.attempt === 1 && l.outcome === "done")).toBe(true);
    await expectEmpty(broker, TASK_STREAM);
  });

  it("tasks ebgo targets at a claim and at worker:<id> run on the TypeScript worker holding them", async () => {
    const { broker, registry, startWorker } = await env();
    registry.register(whoAmI);
    await startWorker({ workerId: "ts-gpu", claims: ["gpu"] });
    for (const target of ["gpu", "worker:ts-gpu"]) {
      const lines = await runGo(["enqueue", "--url", node().url, "--name", "interop.WhoAmI", "--target", target, "--decode", "string"]);
      expect(lines.find((l) => l.event === "enqueued")).toMatchObject({ subject: `TASKS_TARGET.${Buffer.from(target).toString("base64url")}.interop.WhoAmI` });
      expect(lines.find((l) => l.event === "decoded")?.value).toBe("ts-gpu");
    }
    await expectEmpty(broker, TASK_STREAM);
  });

  it("a TypeScript worker joins the claim durable a Go worker created; targeted tasks run on one or the other", async () => {
    const { client, registry, startWorker } = await env();
    registry.register(whoAmI);
    await startGo(["worker", "--url", node().url, "--id", "go-shared", "--claims", "shared"]);
    await startWorker({ workerId: "ts-shared", claims: ["shared"] });
    const futures = await Promise.all(Array.from({ length: 40 }, () => client.enqueueWith(WhoAmI, { target: "shared" })));
    const ran = await Promise.all(futures.map((f) => f.result({ timeoutMs: 10_000 })));
    // How they split depends on pull sizes (Go's Consume pulls up to 500 at once): not asserted.
    expect(ran.every((r) => r === "ts-shared" || r === "go-shared")).toBe(true);
  });
});
