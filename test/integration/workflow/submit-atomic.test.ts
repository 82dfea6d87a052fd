/**
 * Issue 12: a submit either writes the whole DAG or leaves nothing that runs, over both backends
 * with a small max payload (64 KiB):
 * 1. a step argument larger than the server carries failed submit with `unavailable`, left the DAG
 *    `running` with half its steps written, the sweep then ran a step of it, and the id could never
 *    be submitted again. Now: EbindError `payload_too_large` naming the step, its size and the
 *    limit, before anything is written;
 * 2. a write failing half-way for another reason: what was written is rolled back, the sweep runs
 *    nothing, the id can be submitted again;
 * 3. when even the roll-back fails, the half-written DAG is never run by a sweep, and deleteDag
 *    frees its id;
 * 4. a dynamic step added with an argument over the limit is refused the same way (it was written,
 *    then failed at its start, or failed the write with `unavailable` on NATS).
 */
import { describe, expect, it } from "vitest";
import { EbindError } from "../../../src/task/index.js";
import { TASK_STREAM, type Broker, type KvBucket } from "../../../src/broker/index.js";
import { memoryBroker } from "../../../src/memory/index.js";
import { connectNats } from "../../../src/nats/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import type { BackendUnderTest } from "../../support/backends.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { countedHandler } from "../../support/handlers/workflow.js";
import { dagContext } from "../../../src/workflow/index.js";
import { defineHandler } from "../../../src/task/index.js";

const MAX_PAYLOAD = 64 * 1024;

/** Key predicates whose KV writes (create/update) or deletes fail, switched on by a test. */
interface Faults {
  failWrite?: ((key: string) => boolean) | undefined;
  failDelete?: ((key: string) => boolean) | undefined;
}

/** A broker whose KV buckets fail the writes `faults` selects with `unavailable` (a lost connection). */
function faulty(broker: Broker, faults: Faults): Broker {
  const wrapBucket = (kv: KvBucket): KvBucket => {
    const refuse = (key: string): never => {
      throw new EbindError("unavailable", `kv ${kv.name}: injected failure writing ${key}`);
    };
    return new Proxy(kv, {
      get(target, prop, receiver) {
        if (prop === "create") return (key: string, value: Uint8Array) => (faults.failWrite?.(key) ? refuse(key) : target.create(key, value));
        if (prop === "update") return (key: string, value: Uint8Array, rev: number) => (faults.failWrite?.(key) ? refuse(key) : target.update(key, value, rev));
        if (prop === "delete") return (key: string, o?: { expectedRevision?: number }) => (faults.failDelete?.(key) ? refuse(key) : target.delete(key, o));
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
  return new Proxy(broker, {
    get(target, prop, receiver) {
      if (prop === "kv") return async (...args: Parameters<Broker["kv"]>) => wrapBucket(await target.kv(...args));
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const faults: Faults = {};

/** The last sequence of the task stream: how many tasks were ever published. */
async function published(broker: Broker): Promise<number> {
  return (await broker.streamState(TASK_STREAM))?.lastSeq ?? 0;
}

function suite(backend: BackendUnderTest): void {
  const env = useWorkflowEnv(backend);

  it("an argument over the server's max payload: payload_too_large naming the step, its size and the limit; nothing written, nothing runs, the id can be submitted again", async () => {
    const { workflow, registry, broker, run } = await env();
    const { counted, runs } = countedHandler<string>("sa.echo");
    registry.register(counted);
    const { scheduler } = await run();
    const id = `big-${backend.name}-${Date.now()}`;
    const dag = workflow.dag({ id });
    dag.step("small", counted, "s");
    const big = dag.step("big", counted, "x".repeat(MAX_PAYLOAD));
    dag.step("after", counted, big.ref());
    const before = await published(broker);
    const err = await workflow.submit(dag).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EbindError);
    expect((err as EbindError).code).toBe("payload_too_large");
    expect((err as Error).message).toMatch(/step "big".* \d+ bytes.* more than the 49152 bytes/);
    const kv = await broker.kv("ebind-dags");
    expect(await kv.keys(`${id}.>`)).toEqual([]);
    await expect(workflow.dagInfo(id)).rejects.toMatchObject({ code: "dag_not_found" });
    await scheduler.sweepNow();
    expect(await published(broker)).toBe(before); // no task of it was ever published
    expect(runs.size).toBe(0);

    const again = workflow.dag({ id });
    const a = again.step("small", counted, "s");
    again.step("after", counted, a.ref());
    await workflow.submit(again);
    expect((await workflow.awaitDag(id, { timeoutMs: 10_000 })).status).toBe("done");
    expect(runs.get(`${id}/small`)).toBe(1);
  });

  it("a DAG meta (labels) over the limit is refused the same way", async () => {
    const { workflow, registry } = await env();
    const { counted } = countedHandler<string>("sa.echo2");
    registry.register(counted);
    const dag = workflow.dag({ labels: Array.from({ length: 4000 }, (_, i) => `label-number-${i}`) });
    dag.step("one", counted, "s");
    const err = await workflow.submit(dag).catch((e: unknown) => e);
    expect((err as EbindError).code).toBe("payload_too_large");
    expect((err as Error).message).toMatch(/meta/);
  });

  it("a dynamic step over the limit: addStep throws payload_too_large naming it; nothing written", async () => {
    const { workflow, registry, run } = await env();
    const { counted } = countedHandler<string>("sa.echo5");
    const adder = defineHandler("sa.adder", async (ctx) => {
      const err = await dagContext(ctx)!
        .addStep("huge", counted, "x".repeat(MAX_PAYLOAD))
        .then(() => undefined, (e: unknown) => e as EbindError);
      return `${err?.code}: ${err?.message}`;
    });
    registry.register(counted);
    registry.register(adder);
    await run();
    const dag = workflow.dag();
    const a = dag.step("adder", adder);
    await workflow.submit(dag);
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toMatch(/^payload_too_large: workflow: add step "huge" to DAG .*: step "huge": its (record|task) would be \d+ bytes, more than the 49152 bytes/);
    expect((await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status).toBe("done");
    expect((await workflow.dagInfo(dag.id)).steps.map((s) => s.stepId)).toEqual(["adder"]);
  });

  it("a step write failing half-way: the submit throws, what was written is rolled back, the sweep runs nothing, the id is free", async () => {
    const { workflow, registry, broker, run } = await env();
    const { counted, runs } = countedHandler<string>("sa.echo3");
    registry.register(counted);
    const { scheduler } = await run();
    const id = `half-${backend.name}-${Date.now()}`;
    const dag = workflow.dag({ id });
    for (let i = 0; i < 5; i++) dag.step(`s${i}`, counted, `v${i}`);
    faults.failWrite = (key) => key === `${id}.step.s3`;
    const before = await published(broker);
    try {
      const err = await workflow.submit(dag).catch((e: unknown) => e);
      expect((err as EbindError).code).toBe("unavailable");
      expect((err as Error).message).toMatch(/injected failure/);
    } finally {
      faults.failWrite = undefined;
    }
    const kv = await broker.kv("ebind-dags");
    expect(await kv.keys(`${id}.>`)).toEqual([]);
    await scheduler.sweepNow();
    expect(await published(broker)).toBe(before);
    expect(runs.size).toBe(0);
    const again = workflow.dag({ id });
    again.step("only", counted, "x");
    await workflow.submit(again);
    expect((await workflow.awaitDag(id, { timeoutMs: 10_000 })).status).toBe("done");
    expect([...runs.keys()]).toEqual([`${id}/only`]);
  });

  it("when the roll-back fails too, the sweep never runs the half-written DAG; the error says so; deleteDag frees the id", async () => {
    const { workflow, registry, broker, run } = await env();
    const { counted, runs } = countedHandler<string>("sa.echo4");
    registry.register(counted);
    const { scheduler } = await run();
    const id = `stuck-${backend.name}-${Date.now()}`;
    const dag = workflow.dag({ id });
    for (let i = 0; i < 5; i++) dag.step(`s${i}`, counted, `v${i}`);
    faults.failWrite = (key) => key === `${id}.step.s3`;
    const before = await published(broker);
    faults.failDelete = (key) => key.startsWith(`${id}.`);
    try {
      const err = await workflow.submit(dag).catch((e: unknown) => e);
      expect((err as EbindError).code).toBe("unavailable");
      expect((err as Error).message).toMatch(/half-written.*deleteDag/);
    } finally {
      faults.failWrite = undefined;
      faults.failDelete = undefined;
    }
    const kv = await broker.kv("ebind-dags");
    expect((await kv.keys(`${id}.>`)).length).toBeGreaterThan(0); // left behind
    await scheduler.sweepNow();
    expect(await published(broker)).toBe(before);
    expect(runs.size).toBe(0);
    expect((await workflow.dagInfo(id)).steps.every((s) => s.status === "pending")).toBe(true);
    await workflow.deleteDag(id);
    const again = workflow.dag({ id });
    again.step("only", counted, "x");
    await workflow.submit(again);
    expect((await workflow.awaitDag(id, { timeoutMs: 10_000 })).status).toBe("done");
    expect([...runs.keys()]).toEqual([`${id}/only`]);
  });
}

describe("workflow: submit writes all or nothing [memory]", () => {
  suite({ name: "memory", open: async () => faulty(memoryBroker({ maxPayloadBytes: MAX_PAYLOAD }), faults) });
});

describeNats("workflow: submit writes all or nothing [nats]", () => {
  const node = useNatsNode({ maxPayload: MAX_PAYLOAD });
  suite({ name: "nats", open: async () => faulty(await connectNats({ servers: node().url }), faults) });
});
