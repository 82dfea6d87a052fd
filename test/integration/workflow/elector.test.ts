/**
 * The KV lease elector (one sweeping scheduler among many) over both backends, and the scheduler's
 * obedience to its elector: no sweep while not leading, a sweep on the next check once it leads.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, expect, it } from "vitest";
import type { Broker, KvBucket } from "../../../src/broker/index.js";
import { KvLeaderElector, LEADER_BUCKET, type LeaderElector } from "../../../src/workflow/index.js";
import { describeBackends } from "../../support/backends.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { add, double } from "../../support/handlers/workflow.js";

const LEASE_MS = 300;
const text = new TextDecoder();
const utf8 = new TextEncoder();

/** Polls `check` every `everyMs` until it holds; returns the time it first held. Throws after `timeoutMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 10): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return Date.now();
    if (Date.now() > deadline) throw new Error(`not ${what} within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/**
 * The broker as a process that dies sees it: after `sever()`, every call the elector makes fails
 * (like a dropped connection), so the lease is neither renewed nor released — the key stays.
 */
function severable(broker: Broker): { broker: Broker; sever(): void } {
  let severed = false;
  const dead = (): Promise<never> => Promise.reject(new Error("connection lost (simulated process death)"));
  const guard = <T extends object>(target: T, wrapResult: (value: unknown, prop: string | symbol) => unknown): T =>
    new Proxy(target, {
      get(t, prop) {
        const value: unknown = Reflect.get(t, prop, t);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => (severed ? dead() : wrapResult((value as (...a: unknown[]) => unknown).apply(t, args), prop));
      },
    });
  const wrapBucket = (bucket: KvBucket): KvBucket => guard(bucket, (v) => v);
  return {
    broker: guard(broker, (v, prop) => (prop === "kv" ? (v as Promise<KvBucket>).then(wrapBucket) : v)),
    sever: () => {
      severed = true;
    },
  };
}

describeBackends("workflow: KV lease elector", (backend) => {
  const env = useWorkflowEnv(backend);
  const electors: KvLeaderElector[] = [];
  const elector = (broker: Broker, id: string, key: string): KvLeaderElector => {
    const e = new KvLeaderElector(broker, { id, key, leaseMs: LEASE_MS });
    electors.push(e);
    return e;
  };
  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
  });
  const holder = async (broker: Broker, key: string): Promise<string | undefined> => {
    const entry = await (await broker.kv(LEADER_BUCKET, { history: 1 })).get(key);
    return entry ? text.decode(entry.value) : undefined;
  };

  it("two electors on one broker: exactly one leads, the same one, for several lease periods", async () => {
    const { broker } = await env();
    const key = `k-${randomUUID()}`;
    const a = elector(broker, "a", key);
    const b = elector(broker, "b", key);
    await Promise.all([a.start(), b.start()]);
    const first = a.isLeader() ? "a" : "b";
    for (let i = 0; i < 15; i++) {
      expect([a.isLeader(), b.isLeader()].filter(Boolean), `poll ${i}`).toHaveLength(1);
      expect(a.isLeader() ? "a" : "b", `poll ${i}: the lease does not move while it is renewed`).toBe(first);
      await sleep(LEASE_MS / 5);
    }
    expect(await holder(broker, key)).toBe(first);
  });

  it("stopping the leader releases the lease: the other takes over within a lease period, the stopped one never again", async () => {
    const { broker } = await env();
    const key = `k-${randomUUID()}`;
    const a = elector(broker, "a", key);
    await a.start();
    expect(a.isLeader()).toBe(true);
    const b = elector(broker, "b", key);
    await b.start();
    expect(b.isLeader()).toBe(false);
    const stoppedAt = Date.now();
    await a.stop();
    expect(a.isLeader()).toBe(false);
    const tookOver = await until("b leading", () => b.isLeader(), 3 * LEASE_MS);
    // The key was deleted, so b does not wait for the lease to expire: its next tick (every leaseMs/3) takes it.
    expect(tookOver - stoppedAt).toBeLessThan(LEASE_MS);
    expect(await holder(broker, key)).toBe("b");
    for (let i = 0; i < 5; i++) {
      await sleep(LEASE_MS / 3);
      expect(a.isLeader()).toBe(false);
      expect(b.isLeader()).toBe(true);
    }
  });

  it("a leader whose process dies keeps the key: the other leads only once the lease expired, within a few lease periods", async () => {
    const { broker } = await env();
    const key = `k-${randomUUID()}`;
    const doomed = severable(broker);
    const a = elector(doomed.broker, "a", key);
    await a.start();
    const b = elector(broker, "b", key);
    await b.start();
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    await sleep(LEASE_MS); // a few renewals
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);

    doomed.sever();
    const diedAt = Date.now();
    const kv = await broker.kv(LEADER_BUCKET, { history: 1 });
    const lastRenewal = (await kv.get(key))!;
    expect(text.decode(lastRenewal.value)).toBe("a");
    const tookOver = await until("b leading", () => b.isLeader(), 6 * LEASE_MS);
    // Not before the lease ran out (measured from a's last renewal), but soon after.
    expect(tookOver - lastRenewal.createdAt.getTime()).toBeGreaterThanOrEqual(LEASE_MS);
    expect(tookOver - diedAt).toBeLessThan(3 * LEASE_MS);
    expect(await holder(broker, key)).toBe("b");
    // The dead process's renewal failed, so it stepped down too.
    expect(a.isLeader()).toBe(false);
  });

  it(`a lease left by a dead holder under the default key "scheduler" is taken only after leaseMs`, async () => {
    const { broker } = await env();
    const kv = await broker.kv(LEADER_BUCKET, { history: 1 });
    await kv.delete("scheduler"); // the file's node may hold one from an earlier test
    const before = Date.now();
    await kv.create("scheduler", utf8.encode("dead-holder"));
    const c = new KvLeaderElector(broker, { id: "c", leaseMs: LEASE_MS });
    electors.push(c);
    await c.start();
    expect(c.isLeader()).toBe(false);
    expect(await holder(broker, "scheduler")).toBe("dead-holder");
    const led = await until("c leading", () => c.isLeader(), 6 * LEASE_MS, 5);
    expect(led - before).toBeGreaterThanOrEqual(LEASE_MS);
    expect(led - before).toBeLessThan(LEASE_MS + 3 * (LEASE_MS / 3) + 300);
    expect(await holder(broker, "scheduler")).toBe("c");
  });

  it("a scheduler that is not the leader never sweeps; when its elector says it leads, the next check sweeps and repairs a stuck DAG", async () => {
    const { broker, workflow, registry, startWorker, startScheduler, untilStatus } = await env();
    for (const h of [add, double]) registry.register(h);
    await startWorker(); // no scheduler yet: a's completion event stays in the stream
    const dag = workflow.dag();
    const a = dag.step("a", add, 2, 3);
    const b = dag.step("b", double, a.ref());
    await workflow.submit(dag);
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe(5);
    await until("a's completion event stored", async () => (await broker.streamState("EBIND_DAG_EVENTS"))!.messages === 1, 5000);
    const state = (await broker.streamState("EBIND_DAG_EVENTS"))!;
    expect((await broker.getMessage("EBIND_DAG_EVENTS", state.lastSeq))?.subject).toBe(`DAG.${dag.id}.completed.a`);
    await broker.purgeStream("EBIND_DAG_EVENTS"); // the event is lost: only a sweep can start b
    expect((await broker.streamState("EBIND_DAG_EVENTS"))!.messages).toBe(0);

    let leading = false;
    const calls = { isLeader: 0, start: 0, stop: 0 };
    const stub: LeaderElector = {
      isLeader: () => {
        calls.isLeader++;
        return leading;
      },
      start: async () => {
        calls.start++;
      },
      stop: async () => {
        calls.stop++;
      },
    };
    const scheduler = await startScheduler({ elector: stub, sweepCheckIntervalMs: 50, sweepIntervalMs: 60_000 });
    expect(calls.start).toBe(1);
    await sleep(600);
    expect(calls.isLeader).toBeGreaterThanOrEqual(5); // it asked, repeatedly, and was told no
    let info = await workflow.dagInfo(dag.id);
    expect(info.meta.status).toBe("running");
    expect(Object.fromEntries(info.steps.map((s) => [s.stepId, s.status]))).toEqual({ a: "done", b: "pending" });

    leading = true;
    await untilStatus(dag.id, "done", 10_000);
    expect(await workflow.await(b, { timeoutMs: 1000 })).toBe(10);
    info = await workflow.dagInfo(dag.id);
    expect(Object.fromEntries(info.steps.map((s) => [s.stepId, s.status]))).toEqual({ a: "done", b: "done" });

    await scheduler.stop();
    expect(calls.stop).toBe(1);
  });
});
