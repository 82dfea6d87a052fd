/**
 * Runs each example's `main()` in-process against its own embedded nats-server and checks the lines
 * it prints (reference §5, examples 01–05; 04 starts its own three-node cluster).
 * @module
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { main as basic } from "../../../examples/01-basic.js";
import { main as retryPolicy } from "../../../examples/02-retry-policy.js";
import { main as fireAndForget } from "../../../examples/03-fire-and-forget.js";
import { main as clusterHa } from "../../../examples/04-cluster-ha.js";
import { main as middleware } from "../../../examples/05-middleware.js";
import { liveChildPids } from "../../../src/embed/index.js";
import { describeNats } from "../../support/nats.js";

const quiet = (): void => {};

describeNats("examples", () => {
  // The examples honour NATS_URL; the tests must start their own server, never use a shared one.
  const savedUrl = process.env.NATS_URL;
  beforeAll(() => {
    delete process.env.NATS_URL;
  });
  afterAll(() => {
    if (savedUrl !== undefined) process.env.NATS_URL = savedUrl;
  });

  it("01-basic logs the greeting", async () => {
    const lines = await basic(quiet);
    expect(lines[0]).toMatch(/^ebind: backend: embedded nats-server at nats:\/\/127\.0\.0\.1:\d+ /);
    expect(lines.slice(1)).toEqual(["result: hello world!"]);
  });

  it("02-retry-policy runs Flaky three times, then reports the result and the attempts", async () => {
    const lines = await retryPolicy(quiet);
    expect(lines.slice(1)).toEqual([
      "Flaky called, attempt #1",
      "Flaky called, attempt #2",
      "Flaky called, attempt #3",
      "final result: ok after retry-demo (after 3 attempts)",
    ]);
  });

  it("03-fire-and-forget enqueues ten tasks by id and waits until all ten ran", async () => {
    const lines = await fireAndForget(quiet);
    const ids = lines.flatMap((l) => /^enqueued (\S+)$/.exec(l)?.[1] ?? []);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(lines.filter((l) => l === "AUDIT: event=login user=alice")).toHaveLength(10);
    expect(lines.at(-1)).toBe("processed 10 tasks");
  });

  it("04-cluster-ha: three round trips, a node that is not the meta leader stops, one more round trip", async () => {
    const lines = await clusterHa(quiet);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^cluster ready: nats:\/\/127\.0\.0\.1:\d+ nats:\/\/127\.0\.0\.1:\d+ nats:\/\/127\.0\.0\.1:\d+$/);
    expect(lines.slice(1, 4)).toEqual(["round trip 0: echo:msg-0", "round trip 1: echo:msg-1", "round trip 2: echo:msg-2"]);
    const stopped = /^stopping (ebind-ha-demo-[0-2]) \((nats:\S+)\); the meta leader (ebind-ha-demo-[0-2]) stays$/.exec(lines[4] ?? "");
    expect(stopped, lines[4]).not.toBeNull();
    expect(stopped![1]).not.toBe(stopped![3]);
    expect(lines[0]).toContain(stopped![2]);
    expect(lines[5]).toBe("post-failover: echo:after-failover");
    expect(liveChildPids(), "the cluster's nats-servers are stopped").toEqual([]);
  });

  it("05-middleware logs task.start, the timing line, task.done, then the result", async () => {
    const lines = (await middleware(quiet)).slice(1);
    expect(lines).toHaveLength(4);
    const [start, timing, done, result] = lines;
    expect(start).toMatch(/^INFO task\.start task_id=[0-9a-f-]{36} task_name=main\.SlowProcess attempt=1$/);
    const took = /^\[timing\] main\.SlowProcess: (\d+\.\d)ms \(err=none\)$/.exec(timing ?? "");
    expect(took, `timing line: ${timing}`).not.toBeNull();
    expect(Number(took?.[1])).toBeGreaterThanOrEqual(45); // the handler sleeps 50 ms (timer granularity aside)
    expect(done).toMatch(/^INFO task\.done task_id=[0-9a-f-]{36} task_name=main\.SlowProcess attempt=1 duration_ms=\d+(\.\d+)?$/);
    expect(start?.split(" ")[2]).toBe(done?.split(" ")[2]); // same task id
    expect(result).toBe("result: done: widgets");
  });
});
