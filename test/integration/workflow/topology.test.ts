/**
 * ensureTopology (src/workflow/ops/setup.ts): every stream and KV bucket ebind uses, made in one
 * administrator's step, idempotently; bad replicas refused. On memory and on a real nats-server.
 */
import { expect, it } from "vitest";
import { ensureTopology, TOPOLOGY_STREAMS } from "../../../src/workflow/index.js";
import { describeBackends, useCleanups } from "../../support/backends.js";

describeBackends("ensureTopology", (backend) => {
  const cleanups = useCleanups();

  it("creates every stream and bucket, and a second call changes nothing", async () => {
    const broker = await backend.open();
    cleanups.push(() => broker.close());
    expect(await ensureTopology(broker)).toEqual(TOPOLOGY_STREAMS);
    // The memory backend keeps KV buckets apart from its streams; on NATS a bucket is the stream KV_<bucket>.
    const streams = backend.name === "nats" ? TOPOLOGY_STREAMS : TOPOLOGY_STREAMS.filter((n) => !n.startsWith("KV_"));
    for (const name of streams) expect(await broker.streamState(name), name).toMatchObject({ name, replicas: 1 });
    expect(await ensureTopology(broker)).toEqual(TOPOLOGY_STREAMS);
    expect(TOPOLOGY_STREAMS).toEqual(expect.arrayContaining(["EBIND_TASKS", "EBIND_DAG_EVENTS", "KV_ebind-dags", "KV_ebind-leader", "KV_ebind-clock", "KV_ebind-task-pauses"]));
  });

  it("refuses replicas that are not a positive integer, naming the option", async () => {
    const broker = await backend.open();
    cleanups.push(() => broker.close());
    await expect(ensureTopology(broker, { replicas: 0 })).rejects.toMatchObject({ code: "invalid_argument", message: expect.stringContaining("replicas") });
    await expect(ensureTopology(broker, { replicas: 1.5 })).rejects.toMatchObject({ code: "invalid_argument" });
  });
});
