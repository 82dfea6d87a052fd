/**
 * The worker middleware records a step's attempt from the record its own process's scheduler wrote
 * when starting the step (src/workflow/store/recent-starts.ts), over both backends: when that record is
 * stale the compare-and-set fails and the attempt is still recorded from a fresh read.
 */
import { expect, it } from "vitest";
import { DAG_BUCKET } from "../../../src/workflow/index.js";
import { stepKey } from "../../../src/workflow/model/keys.js";
import { describeBackends } from "../../support/backends.js";
import { eventually } from "../../support/queue.js";
import { useWorkflowEnv } from "../../support/workflow-env.js";
import { add } from "../../support/handlers/workflow.js";

describeBackends("workflow: attempts recorded from the start's own write", (backend) => {
  const env = useWorkflowEnv(backend);

  it("records attempt 1 on a root started by submit in this process, fresh or stale", async () => {
    const { broker, workflow, registry, startWorker } = await env();
    registry.register(add);
    const fresh = workflow.dag();
    fresh.step("a", add, 1, 2);
    const stale = workflow.dag();
    stale.step("a", add, 3, 4);
    await workflow.submit(fresh);
    await workflow.submit(stale); // both roots running, their tasks queued; no worker yet
    // Another writer moves the stale DAG's record on after the start: same bytes, new revision.
    const kv = await broker.kv(DAG_BUCKET);
    const entry = (await kv.get(stepKey(stale.id, "a")))!;
    await kv.update(stepKey(stale.id, "a"), entry.value, entry.revision);

    await startWorker(); // no scheduler: the DAGs stay running, their one step finishes
    for (const dag of [fresh, stale]) {
      expect(await workflow.awaitById(dag.id, "a", { timeoutMs: 10_000 })).toBe(dag === fresh ? 3 : 7);
      await eventually(async () => (await workflow.dagInfo(dag.id)).steps[0]!.status === "done", `${dag.id}/a done`);
      expect((await workflow.dagInfo(dag.id)).steps[0]).toMatchObject({ status: "done", attempt: 1 });
    }
  });
});
