/**
 * Clock skew between producer and worker (issue 12): a relative timeout is the budget the producer
 * meant, measured on the worker's clock from when the server stored the task. The worker runs in a
 * child process under libfaketime; the producer's clock is skewed through the client's `clock`
 * option. Both directions were reproduced first: with the producer 5 min ahead and the worker 2 min
 * behind, a 3 s timeout became about 7 minutes; the opposite skew failed tasks at once.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { silentLogger, systemClock, type Clock } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { connectNats } from "../../../src/nats/index.js";
import { ErrKind, TaskError } from "../../../src/task/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { useQueueEnv } from "../../support/queue.js";
import { useWorkerProcesses } from "../../support/processes.js";
import { slow } from "../../support/handlers/common.js";

const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const MINUTE = 60_000;

/** The environment that shifts a child process's wall clock by `offset` (e.g. "-120s"), leaving its timers alone. */
function fakeTime(offset: string): Record<string, string> {
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: "1" };
}

/** The system clock shifted by `offsetMs`. */
function skewed(offsetMs: number): Clock {
  return { ...systemClock, now: () => Date.now() + offsetMs };
}

/** Skipped where libfaketime is missing, unless the run requires every NATS suite (CI): then it fails. */
const describeFaketime = existsSync(LIBFAKETIME) || process.env.EBIND_REQUIRE_NATS === "1" ? describeNats : (name: string, fn: () => void) => describe.skip(name, fn);

describeFaketime("task queue: clock skew between producer and worker [nats, libfaketime]", () => {
  const node = useNatsNode();
  const env = useQueueEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });
  const startProcess = useWorkerProcesses();

  it("libfaketime is installed (CI installs the faketime package)", () => {
    expect(existsSync(LIBFAKETIME)).toBe(true);
  });

  it("producer 5 min ahead, worker 2 min behind: a 3 s timeout still aborts the handler after about 3 s", async () => {
    const { broker } = await env();
    const producer = await Client.create(broker, { logger: silentLogger, clock: skewed(5 * MINUTE) });
    try {
      const worker = await startProcess(node().url, "w-behind", {}, fakeTime("-120s"));
      void worker;
      const future = await producer.enqueueWith(slow, { timeoutMs: 3000 }, 60_000, "skewed");
      const started = Date.now();
      const err = (await future.result({ timeoutMs: 20_000 }).catch((e: unknown) => e)) as TaskError;
      expect(err).toBeInstanceOf(TaskError);
      expect(err.kind).toBe(ErrKind.Deadline);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await producer.close();
    }
  });

  it("producer 5 min behind, worker 2 min ahead: a task with a 10 s timeout runs instead of failing at once", async () => {
    const { broker } = await env();
    const producer = await Client.create(broker, { logger: silentLogger, clock: skewed(-5 * MINUTE) });
    try {
      await startProcess(node().url, "w-ahead", {}, fakeTime("+120s"));
      const future = await producer.enqueueWith(slow, { timeoutMs: 10_000 }, 200, "in time");
      const result = await future.result({ timeoutMs: 20_000 });
      expect(result).toEqual({ tag: "in time", workerId: "w-ahead", attempt: 1 });
    } finally {
      await producer.close();
    }
  });
});
