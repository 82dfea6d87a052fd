/**
 * 07 — fan-out / fan-in: two root steps run in parallel, a third joins their results.
 *
 *   npx tsx examples/07-workflow-fanout.ts
 *
 * `profile` and `history` (100 ms each) have no dependencies, so both start at once; `combine` takes
 * both results. Logs when each root's handler ran (relative to the submit), then
 * `result: profile(user-42) has 42 history entries (took ~100ms)` with the measured time: about one
 * step's 100 ms, not the 200 ms of running them one after the other.
 * @module
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler } from "../src/task/index.js";
import { recorder, runIfMain } from "./run-main.js";
import { openWorkflowApp } from "./workflow-app.js";

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);

  // Each handler notes when it ran, relative to the submit (t0), to show the two roots overlap.
  let t0 = 0;
  const ran = new Map<string, string>();
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const start = Math.round(performance.now() - t0);
    const result = await work();
    ran.set(name, `${name} ran from +${start}ms to +${Math.round(performance.now() - t0)}ms`);
    return result;
  };
  const fetchProfile = defineHandler("main.FetchProfile", async (_ctx, userId: string) =>
    timed("profile", async () => {
      await sleep(100);
      return `profile(${userId})`;
    }),
  );
  const fetchHistory = defineHandler("main.FetchHistory", async (_ctx, _userId: string) =>
    timed("history", async () => {
      await sleep(100);
      return 42; // history entries
    }),
  );
  const combine = defineHandler("main.Combine", async (_ctx, profile: string, entries: number) => `${profile} has ${entries} history entries`);

  const app = await openWorkflowApp({
    handlers: [fetchProfile, fetchHistory, combine],
    say,
    worker: { concurrency: 4 }, // room for both roots at once
  });
  const { workflow } = app;
  try {
    const dag = workflow.dag();
    const profile = dag.step("profile", fetchProfile, "user-42");
    const history = dag.step("history", fetchHistory, "user-42");
    const joined = dag.step("combine", combine, profile.ref(), history.ref());

    t0 = performance.now();
    await workflow.submit(dag);
    const result = await workflow.await(joined, { timeoutMs: 10_000 });
    const took = Math.round(performance.now() - t0);

    for (const name of ["profile", "history"]) say(ran.get(name) ?? `${name} did not run`);
    say(`result: ${result} (took ${took}ms)`);
  } finally {
    await app.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
