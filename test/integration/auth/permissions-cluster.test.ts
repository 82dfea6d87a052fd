/**
 * The README's role lists on a replicated deployment: a 3-node cluster whose streams and buckets
 * the administrator made with 3 replicas, where buckets are read from the stream's leader
 * (`$JS.API.STREAM.MSG.GET…`) instead of by direct gets. A producer, a worker and a scheduler with
 * only their lists run a task and a DAG, and the servers log no permissions violation.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { silentLogger } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { startCluster, type NatsCluster } from "../../../src/embed/index.js";
import { connectNats, type NatsBroker } from "../../../src/nats/index.js";
import { Worker } from "../../../src/worker/index.js";
import { ensureTopology, Workflow } from "../../../src/workflow/index.js";
import { describeNats } from "../../support/nats.js";
import { readmeRolesConfig } from "../../support/permissions.js";
import { add, double, scenarioRegistry } from "./scenario.js";

const ROLES = ["producer", "worker", "scheduler"] as const;

describeNats("permissions per role on a 3-node cluster (replicated buckets)", () => {
  const log: string[] = [];
  let cluster: NatsCluster;

  beforeAll(async () => {
    const users = [`    { user: "admin", password: "admin-pw" }`, ...ROLES.map((r) => `    { user: "${r}", password: "${r}-pw", permissions: $${r.toUpperCase()} }`)];
    cluster = await startCluster({
      size: 3,
      name: "auth",
      extraConfig: `authorization {\n${readmeRolesConfig()}\n  users: [\n${users.join("\n")}\n  ]\n}`,
      logger: (line) => log.push(line),
    });
    await cluster.waitReady();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("producer, worker and scheduler run a task and a DAG with only their subjects; no violation", async () => {
    const as = (user: string): Promise<NatsBroker> => connectNats({ servers: cluster.urls, name: user, user, pass: `${user}-pw`, timeoutMs: 5000 });
    const admin = await as("admin");
    await ensureTopology(admin, { replicas: 3 });
    await admin.close();

    const opened: NatsBroker[] = [];
    const closers: Array<() => Promise<unknown> | void> = [];
    try {
      const wb = await as("worker");
      opened.push(wb);
      const ww = await Workflow.create(wb, { logger: silentLogger });
      closers.push(() => ww.close());
      const worker = await Worker.start(wb, scenarioRegistry(), { logger: silentLogger, pullExpiresMs: 1000, stepHook: ww.stepHook, middleware: [ww.middleware] });
      closers.push(() => worker.close());
      const sb = await as("scheduler");
      opened.push(sb);
      const sw = await Workflow.create(sb, { logger: silentLogger });
      closers.push(() => sw.close());
      const scheduler = await sw.startScheduler({ pullExpiresMs: 1000 });
      closers.push(() => scheduler.stop());
      const pb = await as("producer");
      opened.push(pb);
      const client = await Client.create(pb, { logger: silentLogger });
      closers.push(() => client.close());
      expect(await (await client.enqueue(double, 7)).result({ timeoutMs: 15_000 })).toBe(14);
      const pw = await Workflow.create(pb, { logger: silentLogger });
      closers.push(() => pw.close());
      const dag = pw.dag();
      const a = dag.step("a", double, 2);
      const b = dag.step("b", add, a.ref(), 3);
      await pw.submit(dag);
      expect(await pw.await(b, { timeoutMs: 20_000 })).toBe(7);
      expect((await pw.awaitDag(dag.id, { timeoutMs: 15_000 })).status).toBe("done");
    } finally {
      for (const c of closers.reverse()) await c();
      for (const o of opened) await o.close();
    }
    expect(log.filter((l) => /violation/i.test(l))).toEqual([]);
  });
});
