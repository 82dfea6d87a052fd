/**
 * Scenario 4 — retries: N tasks that fail on attempts 1 and 2 and succeed on 3, zero backoff; total
 * time from the first enqueue to the last result.
 * ours: per-task retryPolicy {initialIntervalMs: 0, maximumAttempts: 3}; BullMQ: attempts 3, backoff
 * fixed 0; raw floor: the worker nak()s (no delay) while deliveryCount < 3.
 */
import { alternate, envInt, isMain, type Figures, type System } from "./lib/harness.js";
import { requestResponse } from "./2-reqresp.js";

const N = envInt("BENCH_N4", 1_000);

async function once(system: System): Promise<Figures> {
  const { ms, handlerRuns } = await requestResponse(system, N, "flaky");
  return { total_ms: ms, tasks_per_s: (N / ms) * 1000, handler_runs: handlerRuns };
}

export function run() {
  return alternate("4-retries", ["ours", "raw", "bullmq"], once, {
    notes: {
      ours: `${N} enqueueWith(flaky, {retryPolicy: {initialIntervalMs: 0, maximumAttempts: 3}}), all results awaited`,
      raw: "floor: worker m.nak() (no delay) while info.deliveryCount < 3, then response + ack",
      bullmq: "attempts 3, backoff {type: fixed, delay: 0}; processor throws while job.attemptsMade < 2",
    },
  });
}

if (isMain(import.meta.url)) await run();
