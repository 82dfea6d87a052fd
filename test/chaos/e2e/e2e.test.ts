/**
 * Cluster e2e: ebind's e2e phases (reference §6.17, §7 items 148–151) ported to a 3-node loopback
 * cluster with every stream and bucket at 3 replicas, and three worker processes w1 (claim
 * `primary`), w2 (`secondary`), w3 (none), each connected to ONE node only, running a worker, the
 * workflow's hook and middleware, and a scheduler (worker-main.ts). Killing a node moves a real
 * connection.
 *
 * The phases run in order and share state (one cluster, one long DAG held by gates across them):
 * 00 baseline task queue · 01 the long DAG (gates, a 20-step chain, optional / afterAny / dynamic /
 * placement steps) · 02 kill a follower · 03 pause and resume while degraded · 04 restart the
 * follower · 05 kill the meta leader while a gate is held past the ack wait, finish the DAG ·
 * 06 fail, cancel, delete · 07 breakpoints while degraded · 08 final verification (fan-in 59, every
 * induced failure kind in the DLQ, TASKS drained to 0, each step's terminal record written once).
 *
 * Each phase prints `chaos: <phase> <ms> ms`, and failovers `chaos: failover …` lines.
 * Gates: gates.ts (why a replicated KV key, polled).
 */
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { ensureStreams, silentLogger, type KvBucket } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { listDeadLetters } from "../../../src/dlq/index.js";
import { connectNats, type NatsBroker } from "../../../src/nats/index.js";
import { Workflow } from "../../../src/workflow/index.js";
import { describeNats } from "../../support/nats.js";
import { GATE_BUCKET, releaseGate, sideEffect } from "./gates.js";
import {
  eAdd,
  eDouble,
  eDynParent,
  eFailOptional,
  eFlakyOnce,
  eGate,
  eInc,
  eMul,
  eNonRetryable,
  eOne,
  ePanics,
  eRetryExhaust,
  eSideEffect,
  eSum3,
  legacyAdd,
  whoAmI,
} from "./handlers.js";
import { describeLeftovers, E2E_STREAMS, metaLeader, placement, startE2eCluster, waitMetaLeader, waitStreamsLed, waitUntil, type E2eCluster } from "./harness.js";
import { linesOf, startE2eWorker, type E2eWorker, type E2eWorkerOptions, type Line } from "./processes.js";

/**
 * Reference §6.17's harness values, scaled to the CI budget: ack wait 4 s (ebind: 15 s) so a dead
 * connection's deliveries come back soon; lease 3 s; sweeps as ebind's (check 500 ms, every 5 s);
 * a running step whose task no worker started is republished after 20 s (the default 10 min would
 * outlast the suite).
 */
const OPTIONS: E2eWorkerOptions = {
  concurrency: 8,
  ackWaitMs: 4000,
  shutdownGraceMs: 20_000,
  claimRefreshIntervalMs: 100,
  claimRetryDelayMs: 50,
  leaseMs: 3000,
  sweepCheckIntervalMs: 500,
  sweepIntervalMs: 5000,
  strandedAfterMs: 20_000,
};
const LONG = "e2e-long";
const FAIL = "e2e-fail";
const CANCEL = "e2e-cancel";
const BP = "e2e-bp";
/** Awaits of one step: a step may wait out a failover. */
const AWAIT_MS = 30_000;
/** Awaits issued right after a node kill: they wait out the failover and the steps after it. */
const EARLY_AWAIT_MS = 60_000;
/** Failover deadline after a node kill: lease + one sweep + a few seconds, with room for a slow machine. */
const FAILOVER_MS = OPTIONS.leaseMs + OPTIONS.sweepIntervalMs + 10_000;
const CHAIN = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, "0")}`);

describeNats("chaos e2e: 3-node cluster, R3, workers pinned to nodes (reference §6.17)", () => {
  let e2e: E2eCluster;
  let broker: NatsBroker;
  let jsm: JetStreamManager;
  let workflow: Workflow;
  let client: Client;
  let gates: KvBucket;
  /** The nats-server version the suite runs on. */
  let serverVersion = "";
  const workers: E2eWorker[] = [];
  const failovers: string[] = [];

  const cluster = () => e2e.cluster;

  /**
   * Runs `fn` as a phase: prints its time, and on failure the cluster's and workers' last lines.
   * `heal`: a phase that kills a node and restarts it at its end restarts it also when it failed
   * half-way, so one failure does not leave the next phases on a cluster without quorum.
   */
  const phase = (name: string, timeoutMs: number, fn: () => Promise<void>, heal = false): void => {
    it(name, async () => {
      onTestFailed(() => {
        const tail = [
          `--- ${name} failed; last server lines:`,
          ...e2e.logTail().slice(-60),
          ...workers.flatMap((w) => [`--- worker ${w.id} (node ${w.node}), last lines:`, ...w.out.lines.slice(-25).map((l) => l.text)]),
        ];
        process.stderr.write(tail.join("\n") + "\n");
      });
      const t0 = Date.now();
      try {
        await fn();
      } finally {
        if (heal) for (const [i, n] of cluster().nodes.entries()) if (!n.running) await restart(i);
      }
      console.log(`chaos: ${name} ${Date.now() - t0} ms`);
    }, timeoutMs);
  };

  /** The first `ran` line of a step, from any worker (a gate's: it was reached and holds). */
  const reached = (dagId: string, stepId: string, timeoutMs: number): Promise<Line> =>
    waitUntil(
      `step ${dagId}/${stepId} to start on some worker`,
      timeoutMs,
      async () => workers.flatMap((w) => w.out.lines.filter((l) => l.text.startsWith(`ran ${dagId} ${stepId} `))).sort((a, b) => a.at - b.at)[0],
      undefined,
      50,
    );
  /** How many times a step's handler started, over all workers. */
  const runsOf = (dagId: string, stepId: string) => workers.reduce((n, w) => n + linesOf(w, "ran").filter((l) => l[1] === dagId && l[2] === stepId).length, 0);
  /** A task targeted at `worker:<id>`, answered by that worker (it consumes); the time it took, ms. */
  const roundTrip = async (id: string, timeoutMs: number): Promise<number> => {
    const t0 = Date.now();
    const f = await client.enqueueWith(whoAmI, { target: `worker:${id}` });
    expect(await f.result({ timeoutMs })).toBe(id);
    return Date.now() - t0;
  };
  /** Workers whose elector holds the lease now (their last leader/follower line). */
  const leaders = () =>
    workers.filter((w) => {
      const last = w.out.lines.filter((l) => l.text === "leader" || l.text === "follower").at(-1);
      return last?.text === "leader" && w.child.exitCode === null;
    });
  const waitSchedulerLeader = () =>
    waitUntil(
      "exactly one scheduler leader",
      FAILOVER_MS,
      async () => (leaders().length === 1 ? leaders()[0] : undefined),
      () => `leaders: [${leaders().map((w) => w.id).join(",")}]`,
    );

  /** The node a worker's connection is on now (its last `server` line). */
  const serverOf = (w: E2eWorker): string | undefined => linesOf(w, "server").at(-1)?.[1];
  /**
   * A node that is not the meta leader, the one whose loss moves most: workers connected to it plus
   * streams it leads (a restarted node holds neither until something moves there), the DAG
   * bucket's leader first (the awaits issued right after the kill then meet a leaderless bucket).
   */
  const followerToKill = async (): Promise<number> => {
    const leader = await waitMetaLeader(cluster(), 10_000);
    const led = new Map<string, number>();
    for (const name of E2E_STREAMS) {
      const at = (await jsm.streams.info(name).catch(() => undefined))?.cluster?.leader ?? "";
      led.set(at, (led.get(at) ?? 0) + (name === "KV_ebind-dags" ? 10 : 1));
    }
    const load = (i: number) => {
      const name = cluster().nodes[i]!.serverName;
      return workers.filter((w) => serverOf(w) === name).length + (led.get(name) ?? 0);
    };
    return [0, 1, 2].filter((i) => i !== leader).sort((a, b) => load(b) - load(a) || a - b)[0]!;
  };

  /**
   * Kills node `victim` and measures the failover: a meta leader, stream leaders back (≥ 1 current
   * replica each), the workers that were connected to it reconnected to another node, every worker
   * serving a task targeted at it, a scheduler leader. Prints one `chaos: failover …` line.
   * `rightAfter` is called right after the kill, before anything settled, and its promise handed
   * back for the phase to await: an await issued then must wait, not fail (known bug 3).
   */
  const killAndFailOver = async <T>(victim: number, why: string, rightAfter: () => Promise<T>): Promise<{ early: Promise<T> }> => {
    const victimName = cluster().nodes[victim]!.serverName;
    const moving = workers.filter((w) => serverOf(w) === victimName).map((w) => ({ w, from: w.out.lines.length }));
    const t0 = Date.now();
    await cluster().killNode(victim);
    const early = rightAfter();
    void early.catch(() => undefined); // the phase awaits it; this keeps a failed failover from leaving it unhandled
    const metaMs = await waitMetaLeader(cluster(), FAILOVER_MS).then(() => Date.now() - t0);
    const streamsMs = await waitStreamsLed(jsm, E2E_STREAMS, 1, FAILOVER_MS).then(() => Date.now() - t0);
    const moved = await Promise.all(
      moving.map(async ({ w, from }) => {
        const line = await waitUntil(`worker ${w.id} to reconnect to another node than ${victimName}`, FAILOVER_MS, async () =>
          w.out.lines.slice(from).find((l) => l.text.startsWith("server ") && l.text !== `server ${victimName}`),
        );
        // Ready again (worker.ready, sampled every 50 ms: a reconnect faster than that may show no
        // `not-consuming` at all; the failover line says which).
        const up = await waitUntil(`worker ${w.id} to say consuming again`, FAILOVER_MS, async () => {
          const last = w.out.lines.slice(from).filter((l) => l.text === "consuming" || l.text === "not-consuming").at(-1);
          return last === undefined || last.text === "consuming" ? (last ?? true) : undefined;
        });
        const down = w.out.lines.slice(from).find((l) => l.text === "not-consuming");
        const window = down === undefined || up === true ? "not-consuming not seen" : `not consuming ${down.at - t0}..${up.at - t0} ms`;
        return `${w.id}→${line.text.slice("server ".length)} ${line.at - t0} ms (${window})`;
      }),
    );
    // Readiness: every worker takes a task targeted at it again (the moved ones prove they consume anew).
    const served = await Promise.all(workers.map(async (w) => `${w.id} ${(await roundTrip(w.id, FAILOVER_MS).then(() => Date.now())) - t0} ms`));
    const leader = await waitSchedulerLeader();
    const leaderMs = Date.now() - t0;
    // Every readiness change from the kill on: a worker should not say `consuming` long before it serves.
    const readiness = workers.map((w) => `${w.id}: ${w.out.lines.filter((l) => l.at >= t0 && (l.text === "consuming" || l.text === "not-consuming")).map((l) => `${l.text} ${l.at - t0}`).join(", ") || "no change"}`);
    const line =
      `chaos: failover (${why}: node ${victim} ${victimName}): meta leader ${metaMs} ms, stream leaders ${streamsMs} ms, ` +
      `reconnected [${moved.join(", ") || "no worker was connected to it"}], targeted task served [${served.join(", ")}], scheduler leader ${leader.id} ${leaderMs} ms; ` +
      `readiness [${readiness.join("; ")}]`;
    failovers.push(line);
    console.log(line);
    return { early };
  };

  const restart = async (i: number): Promise<void> => {
    const t0 = Date.now();
    await cluster().restartNode(i);
    await cluster().waitNodeHealthy(i, 30_000);
    console.log(`chaos: node ${i} restarted and healthy in ${Date.now() - t0} ms`);
  };

  beforeAll(async () => {
    const t0 = Date.now();
    e2e = await startE2eCluster();
    broker = await connectNats({ servers: [...e2e.cluster.urls], name: "e2e-test" });
    jsm = await jetstreamManager(broker.connection);
    serverVersion = broker.connection.info?.version ?? "";
    await ensureStreams(broker, { replicas: 3 });
    workflow = await Workflow.create(broker, { replicas: 3, logger: silentLogger });
    gates = await broker.kv(GATE_BUCKET, { replicas: 3 });
    client = await Client.create(broker, { logger: silentLogger });
    const specs: Array<[string, string[]]> = [
      ["w1", ["primary"]],
      ["w2", ["secondary"]],
      ["w3", []],
    ];
    // All three at once, as a deployment starts; each started one is kept for afterAll to stop, even when another failed.
    const started = await Promise.allSettled(specs.map(([id, claims], i) => startE2eWorker(id, i, e2e.cluster.urls[i]!, claims, OPTIONS)));
    for (const s of started) if (s.status === "fulfilled") workers.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    // Readiness (reference §6.17): each worker answers e2e.WhoAmI targeted at worker:<id>.
    for (const w of workers) await roundTrip(w.id, 20_000);
    console.log(`chaos: setup (cluster, streams, 3 worker processes ready) ${Date.now() - t0} ms`);
  }, 90_000);

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGTERM");
    const stopped = await Promise.all(
      workers.map(async (w) => {
        let timer: NodeJS.Timeout | undefined;
        const r = await Promise.race([w.exited, new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), 25_000)))]);
        clearTimeout(timer);
        if (r === "late") {
          w.child.kill("SIGKILL");
          await w.exited;
        }
        return r;
      }),
    );
    await client?.close();
    workflow?.close();
    await broker?.close();
    await e2e?.cluster.stop();
    if (failovers.length > 0) console.log(failovers.join("\n"));
    expect(stopped.filter((s) => s === "late"), "worker processes that did not stop within 25 s of SIGTERM").toEqual([]);
  }, 60_000);

  phase("00_BaselineTaskQueue", 60_000, async () => {
    expect(await (await client.enqueue(eAdd, 2, 3)).result({ timeoutMs: AWAIT_MS })).toBe(5);
    const f42 = await client.enqueue(eAdd, 40, 2);
    expect(await f42.result({ timeoutMs: AWAIT_MS })).toBe(42);
    expect(await (await client.enqueue(eAdd, 2, 3)).resultRaw({ timeoutMs: AWAIT_MS })).toBe("5");
    expect(await (await client.enqueue(legacyAdd, 5, 6)).result({ timeoutMs: AWAIT_MS })).toBe(11);
    expect(await (await client.enqueueWith(whoAmI, { target: "worker:w2" })).result({ timeoutMs: AWAIT_MS })).toBe("w2");
    expect(await (await client.enqueueWith(whoAmI, { target: "primary" })).result({ timeoutMs: AWAIT_MS })).toBe("w1");

    // No response wanted (ebind's SkipResponse and EnqueueAsync are both enqueueAsync here): an id, and the side effect runs.
    const ids = [await client.enqueueAsync(eSideEffect, "async"), await client.enqueueAsyncWith(eSideEffect, { target: "worker:w3" }, "async-w3")];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await waitUntil("both fire-and-forget side effects", AWAIT_MS, async () => ((await sideEffect(gates, "async")) !== undefined ? true : undefined));
    expect(await waitUntil("the side effect targeted at w3", AWAIT_MS, () => sideEffect(gates, "async-w3"))).toBe("w3");

    const flaky = await client.enqueueWith(eFlakyOnce, { retryPolicy: { maximumAttempts: 3, initialIntervalMs: 50 } });
    const recovered = await flaky.result({ timeoutMs: AWAIT_MS });
    expect(recovered.status).toBe("recovered");
    expect(recovered.attempt).toBeGreaterThanOrEqual(2);

    const late = await client.enqueueWith(eAdd, { deadline: new Date(Date.now() - 1000) }, 1, 1);
    await expect(late.result({ timeoutMs: AWAIT_MS })).rejects.toMatchObject({ kind: "deadline" });
    await expect((await client.enqueue(eNonRetryable)).result({ timeoutMs: AWAIT_MS })).rejects.toMatchObject({ kind: "validation" });
    await expect((await client.enqueue(ePanics)).result({ timeoutMs: AWAIT_MS })).rejects.toMatchObject({ kind: "panic" });

    const cyclic = workflow.dag({ id: "e2e-cyclic" });
    const a = cyclic.step("a", eOne);
    const b = cyclic.step("b", eOne).after(a);
    a.after(b);
    await expect(workflow.submit(cyclic)).rejects.toMatchObject({ name: "WorkflowError", code: "cycle" });

    // Every stream and bucket the engine uses, the scheduler lease's included, has 3 replicas.
    for (const name of E2E_STREAMS) {
      const info = await jsm.streams.info(name);
      expect.soft(info.config.num_replicas, `${name} replicas (${placement(info)})`).toBe(3);
    }
  });

  phase("01_SubmitLongDAG", 60_000, async () => {
    const dag = workflow.dag({ id: LONG, retry: { initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 1000, maximumAttempts: 4 } });
    const s1 = dag.step("s1", eAdd, 2, 3);
    const s2 = dag.step("s2", eMul, s1.ref(), 4).onTarget("primary");
    const g1 = dag.step("g1", eGate, s1.ref());
    let prev = g1;
    for (const id of CHAIN) prev = dag.step(id, eInc, prev.ref());
    const g2 = dag.step("g2", eGate, prev.ref());
    const g3 = dag.step("g3", eGate, g2.ref());
    const opt = dag.step("opt", eFailOptional).optional().retry({ maximumAttempts: 1 }).after(g1);
    const dflt = dag.step("dflt", eDouble, opt.refOrDefault(7));
    dag.step("any", whoAmI).afterAny(opt);
    dag.step("ord", eAdd, 1, 1).after(dflt);
    dag.step("dynp", eDynParent, 3).onTarget("secondary").after(g2);
    dag.step("colo", whoAmI).colocateWith(s2).after(g3);
    dag.step("folo", whoAmI).followTargetOf(s2).after(g3);
    dag.step("final", eSum3, g3.ref(), s2.ref(), dflt.ref());
    expect(dag.steps()).toHaveLength(33);
    await workflow.submit(dag);

    expect(await workflow.await(s2, { timeoutMs: AWAIT_MS })).toBe(20);
    expect((await workflow.getStep(LONG, "s2"))?.workerId).toBe("w1");
    await reached(LONG, "g1", AWAIT_MS);
    expect((await workflow.dagInfo(LONG)).meta.status).toBe("running");
  });

  phase("02_KillFollowerNode", 90_000, async () => {
    const victim = await followerToKill();
    const { early } = await killAndFailOver(victim, "follower", () => workflow.awaitById<number>(LONG, "c09", { timeoutMs: EARLY_AWAIT_MS }));
    const released = Date.now();
    await releaseGate(gates, LONG, "g1");
    expect(await early, "c09, awaited from right after the kill").toBe(15);
    const c09Ms = Date.now() - released;
    expect(await (await client.enqueue(eAdd, 40, 2)).result({ timeoutMs: AWAIT_MS })).toBe(42);
    await reached(LONG, "g2", AWAIT_MS);
    expect(await workflow.awaitById(LONG, "c19", { timeoutMs: AWAIT_MS })).toBe(25);
    console.log(`chaos: degraded chain: c09 ${c09Ms} ms, g2 reached ${Date.now() - released} ms after g1's release`);
  });

  phase("03_PauseResumeDegraded", 60_000, async () => {
    expect(await workflow.pause(LONG)).toBe("pausing");
    const held = ["g3", "dynp", "final"];
    const pending = (await workflow.dagInfo(LONG)).steps.filter((s) => held.includes(s.stepId)).map((s) => `${s.stepId}:${s.status}`);
    expect(pending.sort()).toEqual(held.map((s) => `${s}:pending`).sort());
    await releaseGate(gates, LONG, "g2");
    await waitUntil("DAG paused once g2 finished", AWAIT_MS, async () => ((await workflow.dagInfo(LONG)).meta.status === "paused" ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500));
    expect(runsOf(LONG, "g3"), "g3 started while the DAG was paused").toBe(0);
    expect((await workflow.getStep(LONG, "g3"))?.status).toBe("pending");
    expect(await workflow.resume(LONG)).toBe("running");
    await reached(LONG, "g3", AWAIT_MS);
    expect(await workflow.awaitById(LONG, "dynp", { timeoutMs: AWAIT_MS })).toBe(3);
    expect(await workflow.awaitById(LONG, "dyn-followup", { timeoutMs: AWAIT_MS })).toBe(6);
    expect((await workflow.getStep(LONG, "dyn-followup"))?.workerId).toBe("w2");
  });

  phase("04_RestartFollower", 90_000, async () => {
    const down = cluster().nodes.findIndex((n) => !n.running);
    expect(down).toBeGreaterThanOrEqual(0);
    await restart(down);
    // A canary on the restarted node's URL only: a fresh client there round-trips a task.
    const canary = await connectNats({ servers: cluster().urls[down]!, name: "e2e-canary" });
    try {
      const c = await Client.create(canary, { logger: silentLogger });
      expect(await (await c.enqueue(eAdd, 20, 22)).result({ timeoutMs: AWAIT_MS })).toBe(42);
      await c.close();
    } finally {
      await canary.close();
    }
    const ms = await waitStreamsLed(jsm, ["EBIND_TASKS"], 2, 30_000);
    console.log(`chaos: EBIND_TASKS back to 3 current replicas ${ms} ms after the restart's health check`);
  });

  phase("05_KillMetaLeaderAndFinish", 120_000, async () => {
    const g3 = await reached(LONG, "g3", 1000);
    // Hold g3 past the ack wait first: its delivery lives on in-progress acks alone.
    const heldMs = Date.now() - g3.at;
    if (heldMs < OPTIONS.ackWaitMs + 1000) await new Promise((r) => setTimeout(r, OPTIONS.ackWaitMs + 1000 - heldMs));
    const leader = await waitMetaLeader(cluster(), 10_000);
    const { early } = await killAndFailOver(leader, "meta leader", () => workflow.awaitById<number>(LONG, "final", { timeoutMs: EARLY_AWAIT_MS }));
    expect(await metaLeader(cluster())).not.toBe(leader);
    await releaseGate(gates, LONG, "g3");
    expect(await early, "final, awaited from right after the kill").toBe(59);
    expect(await workflow.awaitById(LONG, "colo", { timeoutMs: AWAIT_MS })).toBe("w1");
    expect(await workflow.awaitById(LONG, "folo", { timeoutMs: AWAIT_MS })).toBe("w1");
    console.log(`chaos: g3 ran ${runsOf(LONG, "g3")} time(s) (held ${Date.now() - g3.at} ms in all, past the ${OPTIONS.ackWaitMs} ms ack wait)`);
    await restart(leader);
  }, true);

  phase("06_FailCancelDelete", 60_000, async () => {
    const fail = workflow.dag({ id: FAIL });
    const x = fail.step("x", eRetryExhaust).retry({ maximumAttempts: 3, initialIntervalMs: 50 });
    const down = fail.step("down", eInc, x.ref());
    await workflow.submit(fail);
    await expect(workflow.awaitDag(FAIL, { timeoutMs: AWAIT_MS })).rejects.toMatchObject({ code: "dag_failed" });
    await expect(workflow.await(x, { timeoutMs: AWAIT_MS })).rejects.toMatchObject({ code: "step_failed" });
    await expect(workflow.await(down, { timeoutMs: AWAIT_MS })).rejects.toMatchObject({ code: "step_skipped" });
    const xr = (await workflow.getStep(FAIL, "x"))!;
    expect(xr).toMatchObject({ status: "failed", errorKind: "handler" });
    expect(xr.errorMessage).toContain("always fails");
    expect(runsOf(FAIL, "x")).toBe(3);
    expect((await workflow.getStep(FAIL, "down"))?.status).toBe("skipped");

    const cancel = workflow.dag({ id: CANCEL });
    const root = cancel.step("root", eOne);
    const dep = cancel.step("dep", eGate, root.ref());
    await workflow.submit(cancel);
    await reached(CANCEL, "dep", AWAIT_MS);
    expect(await workflow.cancel(CANCEL)).toBe(true);
    await expect(workflow.await(dep, { timeoutMs: AWAIT_MS })).rejects.toMatchObject({ code: "step_canceled" });
    expect(await workflow.await(root, { timeoutMs: AWAIT_MS })).toBe(1);
    await waitUntil(`step ${CANCEL}/dep canceled`, AWAIT_MS, async () => ((await workflow.getStep(CANCEL, "dep"))?.status === "canceled" ? true : undefined));

    await workflow.deleteDag(CANCEL);
    await waitUntil(`DAG ${CANCEL} gone`, AWAIT_MS, () =>
      workflow.dagInfo(CANCEL).then(
        () => undefined,
        (err: unknown) => ((err as { code?: string }).code === "dag_not_found" ? true : Promise.reject(err as Error)),
      ),
    );
  });

  phase("07_BreakpointsDegraded", 120_000, async () => {
    const bp = workflow.dag({ id: BP });
    const r1 = bp.step("r1", eAdd, 1, 2);
    const mid = bp.step("mid", eDouble, r1.ref()).breakBefore("BeforeMid");
    const tail = bp.step("tail", eInc, mid.ref());
    const r2 = bp.step("r2", eMul, 4, 5).breakAfter("AfterRoot", "AltLabel");
    const dep2 = bp.step("dep2", eDouble, r2.ref());
    const free = bp.step("free", eAdd, 100, 1);
    await workflow.submit(bp, { breakpoints: ["BeforeMid", "AfterRoot"] });
    expect(await workflow.await(free, { timeoutMs: AWAIT_MS })).toBe(101);
    expect(await workflow.await(r1, { timeoutMs: AWAIT_MS })).toBe(3);
    expect(await workflow.await(r2, { timeoutMs: AWAIT_MS })).toBe(20); // readable while it holds dep2
    const blocked = async () => (await workflow.listBreakpoints(BP)).filter((b) => b.state === "blocked").map((b) => `${b.stepId}:${b.position}`).sort();
    const expected = ["mid:before", "r2:after"];
    await waitUntil("2 breakpoints blocked", AWAIT_MS, async () => ((await blocked()).length === 2 ? true : undefined));
    expect(await blocked()).toEqual(expected);

    const victim = await followerToKill();
    const { early } = await killAndFailOver(victim, "follower, breakpoints blocked", () => workflow.await(tail, { timeoutMs: EARLY_AWAIT_MS }));
    expect(await blocked()).toEqual(expected);
    expect((await workflow.dagInfo(BP)).meta.status).toBe("running");
    expect(runsOf(BP, "mid") + runsOf(BP, "dep2")).toBe(0);

    expect(await workflow.resumeBreakpoint(BP, "BeforeMid")).toBe(1);
    expect(await workflow.resumeBreakpoint(BP, "AltLabel")).toBe(1);
    expect(await early, "tail, awaited from right after the kill").toBe(7);
    expect(await workflow.await(dep2, { timeoutMs: AWAIT_MS })).toBe(40);
    expect((await workflow.awaitDag(BP, { timeoutMs: AWAIT_MS })).status).toBe("done");
    await restart(victim);
  }, true);

  phase("08_FinalVerification", 90_000, async () => {
    // What happened, printed first: the assertions below stop at the first failure.
    const runs = Object.fromEntries(workers.map((w) => [w.id, linesOf(w, "ran").length]));
    console.log(`chaos: handler runs per worker ${JSON.stringify(runs)}`);
    const recorded = new Map<string, string[]>();
    for (const w of workers) for (const [, dagId, stepId, status] of linesOf(w, "recorded")) recorded.set(`${dagId}/${stepId}`, [...(recorded.get(`${dagId}/${stepId}`) ?? []), `${w.id}:${status}`]);
    const runCount = new Map<string, number>();
    for (const l of workers.flatMap((w) => linesOf(w, "ran")).filter((l) => l[1] !== "-")) runCount.set(`${l[1]}/${l[2]}`, (runCount.get(`${l[1]}/${l[2]}`) ?? 0) + 1);
    const again = [...runCount].filter(([k, n]) => n > 1 && k !== `${FAIL}/x`);
    console.log(`chaos: step handlers started more than once (at-least-once; their records once): ${again.length === 0 ? "none" : again.map(([k, n]) => `${k}×${n}`).join(", ")}`);
    const warnings = workers.flatMap((w) => w.out.lines.filter((l) => l.text.startsWith("log ")).map((l) => `${w.id}: ${l.text}`));
    console.log(`chaos: worker warnings/errors: ${warnings.length}${warnings.length === 0 ? "" : "\n  " + warnings.slice(0, 40).join("\n  ")}`);

    // The long DAG: done, 33 static steps + dyn-followup, only the optional step failed, nothing blocked.
    const report = await workflow.debug(LONG);
    expect.soft(report.meta.status).toBe("done");
    expect.soft(report.steps).toHaveLength(34);
    expect.soft(report.counts).toMatchObject({ done: 33, failed: 1, pending: 0, running: 0, skipped: 0, canceled: 0 });
    expect.soft(report.steps.filter((s) => s.record.status === "failed").map((s) => s.record.stepId)).toEqual(["opt"]);
    expect.soft(report.blockers).toEqual([]);
    expect.soft(await workflow.awaitById(LONG, "dflt", { timeoutMs: AWAIT_MS })).toBe(14);
    expect.soft(await workflow.awaitById<string>(LONG, "any", { timeoutMs: AWAIT_MS })).toMatch(/^w[123]$/);

    // Every induced failure kind is in the DLQ at least once.
    const kinds = new Set((await listDeadLetters(broker, { limit: 0 })).map((d) => `${d.entry?.task.name}/${d.entry?.error.kind}`));
    for (const k of ["e2e.eAdd/deadline", "e2e.eNonRetryable/validation", "e2e.ePanics/panic", "e2e.eFailOptional/handler", "e2e.eRetryExhaust/handler"]) {
      expect.soft(kinds.has(k), `DLQ holds ${k}; it holds ${[...kinds].join(", ")}`).toBe(true);
    }

    // w1 and w2 dispatched work; at least 40 handler runs in all.
    expect.soft(runs.w1).toBeGreaterThan(0);
    expect.soft(runs.w2).toBeGreaterThan(0);
    expect.soft(runs.w1! + runs.w2! + runs.w3!).toBeGreaterThanOrEqual(40);

    // Each step's terminal record was written once (by the hook of the worker whose outcome won),
    // and every done or failed step of the long and the breakpoint DAG has its one record.
    const twice = [...recorded].filter(([, by]) => by.length > 1).map(([k, by]) => `${k} by ${by.join(",")}`);
    const statuses = await Promise.all([LONG, BP, FAIL].map(async (id) => `${id} ${(await workflow.dagInfo(id)).meta.status}`));
    console.log(`chaos: totals: DAGs ${statuses.join(", ")} (${CANCEL} canceled and deleted); duplicate terminal records ${twice.length}; terminal records written ${[...recorded.values()].reduce((n, by) => n + by.length, 0)}`);
    expect.soft(statuses).toEqual([`${LONG} done`, `${BP} done`, `${FAIL} failed`]);
    expect.soft(twice, "steps whose terminal record was written more than once").toEqual([]);
    for (const dagId of [LONG, BP]) {
      const steps = (await workflow.dagInfo(dagId)).steps;
      const missing = steps.filter((s) => recorded.get(`${dagId}/${s.stepId}`)?.length !== 1).map((s) => `${s.stepId}:${s.status}`);
      expect.soft(missing, `steps of ${dagId} not recorded exactly once by a worker`).toEqual([]);
    }

    // Nothing left in the task queue (§7 item 151); every node up.
    const drained = await waitUntil("EBIND_TASKS drained to 0 messages", AWAIT_MS, async () => ((await broker.streamState("EBIND_TASKS"))?.messages === 0 ? true : undefined)).catch((err: unknown) => err as Error);
    if (drained !== true) {
      const left = await describeLeftovers(jsm, "EBIND_TASKS");
      const ran = (id: string) => workers.some((w) => linesOf(w, "ran").some((l) => l[5] === id));
      const seen = workers.flatMap((w) => w.out.lines.filter((l) => left.ids.some((id) => l.text.includes(id))).map((l) => `${w.id}: ${l.text}`));
      const detail = `${drained.message}\n${left.text}\n  what the workers printed of them: ${seen.length === 0 ? "nothing" : seen.join("; ")}`;
      // nats-server 2.9.x defect (in 4 of 14 runs on 2.9.10, none of 6 on 2.15.3): a task acked around a
      // leader election of the work-queue stream stays in it, though its consumer holds it neither
      // pending nor unacked — it ran once, its outcome arrived, and nothing will deliver it again.
      // Only that is tolerated, and only on 2.9: a leftover that never ran would be a lost task.
      const known = serverVersion.startsWith("2.9.") && left.pending === 0 && left.ids.length === left.messages && left.ids.every(ran);
      if (!known) throw new Error(detail);
      console.log(`chaos: KNOWN nats-server ${serverVersion} defect, tolerated: ${left.messages} task(s) ran, acked, and left in EBIND_TASKS with nothing pending:\n${detail}`);
    }
    for (let i = 0; i < 3; i++) {
      expect.soft(cluster().nodes[i]!.running, `node ${i} running`).toBe(true);
      await cluster().waitNodeHealthy(i, 10_000);
    }
  });
});
