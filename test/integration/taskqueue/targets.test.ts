/**
 * Targets and claims on a real nats-server: reference §7 items 30–32, §3.9.
 */
import { expect, it } from "vitest";
import { TASK_STREAM } from "../../../src/broker/index.js";
import { claimsFunc } from "../../../src/worker/index.js";
import { describeBackends } from "../../support/backends.js";
import { expectEmpty, useQueueEnv } from "../../support/queue.js";
import { whoAmI } from "../../support/handlers/common.js";
import { Registry } from "../../../src/task/index.js";

describeBackends("task queue: targets and claims", (backend) => {
  const env = useQueueEnv(backend);

  it("a task targeted at 'primary' is published on TASKS_TARGET.cHJpbWFyeQ.<name> and runs only on a worker claiming it (§7.30)", async () => {
    const { broker, registry, client, startWorker } = await env();
    registry.register(whoAmI);
    await startWorker({ workerId: "w-other" });
    await startWorker({ workerId: "w-primary", claims: ["primary"] });
    const id = await client.enqueueAsyncWith(whoAmI, { target: "primary" });
    expect(id).toBeTruthy();
    const futures = await Promise.all(Array.from({ length: 10 }, () => client.enqueueWith(whoAmI, { target: "primary" })));
    const ran = await Promise.all(futures.map((f) => f.result({ timeoutMs: 5000 })));
    expect(new Set(ran)).toEqual(new Set(["w-primary"]));
    await expectEmpty(broker, TASK_STREAM);
  });

  it("the subject of a targeted task uses the b64url token of the target", async () => {
    const { broker, client } = await env();
    await client.enqueueAsyncWith(whoAmI, { target: "primary" });
    const state = await broker.streamState(TASK_STREAM);
    const msg = await broker.getMessage(TASK_STREAM, state!.lastSeq);
    expect(msg?.subject).toBe("TASKS_TARGET.cHJpbWFyeQ.test.whoAmI");
  });

  it("a task targeted at worker:w2 runs on the worker whose id is w2, which is recorded on the task (§7.31)", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(whoAmI);
    const w1 = await startWorker({ workerId: "w1" });
    const w2 = await startWorker({ workerId: "w2" });
    expect(w1.claims()).toEqual(["worker:w1"]);
    expect(w2.claims()).toEqual(["worker:w2"]);
    const results = await Promise.all(
      Array.from({ length: 8 }, async () => (await client.enqueueWith(whoAmI, { target: "worker:w2" })).result({ timeoutMs: 5000 })),
    );
    expect(results.every((r) => r === "w2")).toBe(true);
  });

  it("50 targeted tasks with a 500 ms refresh call the claim provider at most 10 times (§7.32)", async () => {
    const { client, startWorker } = await env();
    const registry = new Registry();
    registry.register(whoAmI);
    let calls = 0;
    await startWorker(
      {
        workerId: "w-claims",
        claims: claimsFunc(() => {
          calls++;
          return ["gpu"];
        }),
        claimRefreshIntervalMs: 500,
      },
      registry,
    );
    const futures = await Promise.all(Array.from({ length: 50 }, () => client.enqueueWith(whoAmI, { target: "gpu" })));
    const ran = await Promise.all(futures.map((f) => f.result({ timeoutMs: 5000 })));
    expect(ran.every((r) => r === "w-claims")).toBe(true);
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(10);
  });

  it("a claim added later by the provider gets a consumer without restarting the worker", async () => {
    const { client, startWorker } = await env();
    const registry = new Registry();
    registry.register(whoAmI);
    let claims: string[] = [];
    await startWorker({ workerId: "w-late", claims: claimsFunc(() => claims), claimRefreshIntervalMs: 50 }, registry);
    const future = await client.enqueueWith(whoAmI, { target: "late-claim" });
    claims = ["late-claim"];
    expect(await future.result({ timeoutMs: 5000 })).toBe("w-late");
  });
});
