/** Per-DAG serialised work with batching (src/workflow/run/dag-lanes.ts). */
import { describe, expect, it } from "vitest";
import { DagLanes } from "../../../src/workflow/run/dag-lanes.js";

/** A promise and its resolver. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe("DagLanes", () => {
  it("hands items queued while a DAG is busy over together, in order; other DAGs go on meanwhile", async () => {
    const seen: string[] = [];
    const gate = latch();
    const settled: number[] = [];
    const lanes = new DagLanes<string>(
      async (dagId, batch) => {
        seen.push(`${dagId}:${batch.join(",")}`);
        if (batch[0] === "a1") await gate.promise;
      },
      (n) => settled.push(n),
      () => undefined,
    );
    lanes.push("A", "a1");
    await Promise.resolve();
    await Promise.resolve();
    lanes.push("A", "a2");
    lanes.push("B", "b1");
    lanes.push("A", "a3");
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual(["A:a1", "B:b1"]); // A is blocked on a1; B is not held up
    gate.open();
    await lanes.idle();
    expect(seen).toEqual(["A:a1", "B:b1", "A:a2,a3"]);
    expect(settled.sort()).toEqual([1, 1, 2]);
  });

  it("runs jobs on a DAG's lane after what was queued before them, and items pushed during a job after it", async () => {
    const order: string[] = [];
    const gate = latch();
    const lanes = new DagLanes<string>(
      async (_dagId, batch) => {
        order.push(`batch ${batch.join(",")}`);
      },
      () => undefined,
      () => undefined,
    );
    lanes.push("A", "e1");
    const job = lanes.run("A", async () => {
      order.push("job start");
      await gate.promise;
      order.push("job end");
    });
    await new Promise((r) => setTimeout(r, 0));
    lanes.push("A", "e2");
    gate.open();
    await job;
    await lanes.idle();
    expect(order).toEqual(["batch e1", "job start", "job end", "batch e2"]);
  });

  it("reports a failing batch or job and goes on with the lane", async () => {
    const errors: string[] = [];
    const handled: string[] = [];
    const lanes = new DagLanes<string>(
      async (_dagId, batch) => {
        if (batch.includes("bad")) throw new Error("bad batch");
        handled.push(...batch);
      },
      () => undefined,
      (dagId, err) => errors.push(`${dagId}: ${(err as Error).message}`),
    );
    lanes.push("A", "bad");
    await lanes.run("A", async () => {
      throw new Error("bad job");
    });
    lanes.push("A", "good");
    await lanes.idle();
    expect(errors).toEqual(["A: bad batch", "A: bad job"]);
    expect(handled).toEqual(["good"]);
  });
});
