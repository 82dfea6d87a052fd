/**
 * A scheduler that dies holding events (pulled, not acked) hands them on after the event durable's
 * short ack wait, not after ebind for Go's 30 s; a live scheduler keeps the events it holds with
 * in-progress acks (run/held-events.ts). Issue 16: 20 DAGs took 29 s to finish after their
 * scheduler was killed.
 */
import { expect, it } from "vitest";
import { DAG_EVENTS_STREAM, SCHEDULER_DURABLE, type LeaderElector } from "../../../src/workflow/index.js";
import { EVENT_ACK_WAIT_MS } from "../../../src/workflow/run/held-events.js";
import { schedulerConsumerSpec } from "../../../src/workflow/store/events.js";
import { describeBackends } from "../../support/backends.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { add } from "../../support/handlers/workflow.js";

const neverLeader: LeaderElector = { isLeader: () => false, start: async () => {}, stop: async () => {} };

describeBackends("workflow: a scheduler dying with events in hand", (backend) => {
  const env = useWorkflowEnv(backend);

  it("the events it held reach another scheduler after the event ack wait", async () => {
    const { workflow, registry, startWorker, otherProcess } = await env();
    registry.register(add);
    const dead = await otherProcess();
    await dead.broker.ensureConsumer(DAG_EVENTS_STREAM, schedulerConsumerSpec(EVENT_ACK_WAIT_MS));
    expect((await dead.broker.consumerSpec(DAG_EVENTS_STREAM, SCHEDULER_DURABLE))?.ackWaitMs).toBe(EVENT_ACK_WAIT_MS);

    const dag = workflow.dag();
    const a = dag.step("a", add, 1, 2);
    dag.step("b", add, a.ref(), 10);
    await workflow.submit(dag);
    await startWorker(); // no scheduler yet: a runs, its completion waits as an event
    expect(await workflow.await(a, { timeoutMs: 10_000 })).toBe(3);

    // The dying scheduler pulls the event and never settles it.
    let held = 0;
    for await (const _d of dead.broker.pull(DAG_EVENTS_STREAM, SCHEDULER_DURABLE, { max: 10, expiresMs: 1000 })) held++;
    expect(held).toBeGreaterThan(0);

    const t0 = Date.now();
    // Never the leader, so no sweep repairs the DAG: only the redelivered event can move it.
    await (await otherProcess()).startScheduler({ elector: neverLeader });
    // Within the ack wait plus slack; ebind for Go's 30 s ack wait would miss this.
    await workflow.awaitDag(dag.id, { timeoutMs: EVENT_ACK_WAIT_MS + 10_000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(EVENT_ACK_WAIT_MS - 1000); // it did wait for the redelivery
    expect(await workflow.awaitById(dag.id, "b")).toBe(13);
  });
});
