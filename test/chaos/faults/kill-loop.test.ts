/**
 * Chaos beyond ebind's suite (issue 16), fault 1: SIGKILL of workflow worker processes in a loop
 * (each restarted right after) during 2,000 tasks and 50 DAGs, on a 3-node cluster with every stream
 * and bucket at 3 replicas. Three processes, each a worker and a scheduler pinned to its own node.
 * Nothing may be lost: every task future resolves with its value, every DAG finishes with the right
 * final value, each step's result is written once, each task has one stored response, the DLQ stays
 * empty; and the last kill's work is taken over within a failover bound, not an ack wait of 30 s.
 */
import { expect, it } from "vitest";
import { describeNats } from "../../support/nats.js";
import { pause, Phases, underReplicated, waitUntil } from "./app.js";
import { Load } from "./load.js";
import { CHAOS_WORKER_OPTIONS, engineLogs, failoverMs, leads, type FaultProc } from "./procs.js";
import { watchResults } from "./records.js";
import { useChaosApp } from "./use-chaos-app.js";
import { checkRun, describeCheck } from "./verify.js";

const TASKS = 2000;
const DAGS = 50;
/** Load spread: kills happen while it is being enqueued. */
const SPREAD_MS = 18_000;
const KILL_EVERY_MS = 2500;
/**
 * After the last kill, everything settles within this: the killed process's tasks come back after
 * the task ack wait (2 s), its DAG events after the event ack wait, its lease after 1.5 s, stranded
 * steps after 8 s (a scheduler killed between marking a step running and publishing it). A 30 s
 * event ack wait does not fit.
 */
const SETTLE_AFTER_LAST_KILL_MS = 25_000;
const WORKER_OPTIONS = {
  ...CHAOS_WORKER_OPTIONS,
  concurrency: 8,
  // Above any queue wait here (the load keeps the queue short), so only a lost task is republished.
  strandedAfterMs: 8000,
} as const;

describeNats("chaos faults: SIGKILL worker processes in a loop", () => {
  const chaos = useChaosApp();

  it(`${TASKS} tasks and ${DAGS} DAGs while a worker process is SIGKILLed every ${KILL_EVERY_MS} ms: nothing lost, each result once`, async () => {
    const { cluster: c, app: a, procs } = chaos;
    const phases = new Phases();
    const slots = ["w1", "w2", "w3"];
    const current: FaultProc[] = await phases.run("kill-loop: start 3 worker processes", () =>
      Promise.all(slots.map((slot, i) => procs.start(c.urls[i]!, i, `${slot}-1`, WORKER_OPTIONS))),
    );
    await waitUntil("a scheduler leader", 10_000, () => current.some(leads));
    // Every stream and bucket at 3 replicas (the leader bucket exists once a scheduler campaigned).
    // Soft: the run below still says what else went wrong.
    expect.soft(await underReplicated(a), "streams and buckets below 3 replicas").toEqual([]);

    const watch = watchResults(a, "kl");
    const t0 = Date.now();
    const load = new Load(a, { seed: 101, tasks: TASKS, dags: DAGS, spreadMs: SPREAD_MS, awaitTimeoutMs: 120_000, dagPrefix: "kl" });

    // Kill one process every KILL_EVERY_MS, the one live the longest, and start its slot again at once
    // on the same node (in the background: the loop goes on while it starts).
    const kills: Array<{ id: string; at: number; wasLeader: boolean }> = [];
    const incarnations = slots.map(() => 1);
    const live: Array<FaultProc | undefined> = [...current];
    const restarts: Array<Promise<void>> = [];
    const restartErrors: string[] = [];
    const liveSince = slots.map(() => Date.now());
    while (Date.now() - t0 < SPREAD_MS - KILL_EVERY_MS / 2) {
      await pause(KILL_EVERY_MS);
      // The slot live the longest (a slot still restarting is skipped).
      const candidates = slots.map((_, i) => i).filter((i) => live[i] !== undefined);
      if (candidates.length === 0) continue;
      const slot = candidates.reduce((a, b) => (liveSince[b]! < liveSince[a]! ? b : a));
      const victim = live[slot]!;
      live[slot] = undefined;
      const wasLeader = leads(victim);
      const at = Date.now();
      await procs.kill(victim);
      kills.push({ id: victim.id, at, wasLeader });
      const id = `${slots[slot]}-${++incarnations[slot]!}`;
      restarts.push(
        procs.start(c.urls[slot]!, slot, id, WORKER_OPTIONS).then(
          (p) => {
            live[slot] = p;
            liveSince[slot] = Date.now();
          },
          (err: unknown) => {
            restartErrors.push(`${id}: ${String(err)}`);
          },
        ),
      );
    }
    await Promise.all(restarts);
    expect(restartErrors).toEqual([]);
    const lastKillAt = kills.at(-1)!.at;

    const report = await phases.run("kill-loop: load settles", () => load.done);
    phases.note("kill-loop: last kill to last settle", report.lastSettledAt - lastKillAt);
    await watch.stop();
    const check = await checkRun(a, report, watch);
    const logs = engineLogs(procs.all);
    // How long each killed leader's lease took to move to another process.
    const failovers = kills.filter((k) => k.wasLeader).map((k) => `${k.id}→${String(failoverMs(procs.all, k.id, k.at))}`);
    process.stdout.write(
      [
        `chaos: kill-loop kills ${kills.length} (${kills.map((k) => `${k.id}${k.wasLeader ? "*" : ""}@${k.at - t0}`).join(" ")}; * = was the scheduler leader)`,
        `chaos: kill-loop leader failovers (ms): ${failovers.join(" ") || "no leader was killed"}`,
        `chaos: kill-loop tasks ${report.tasks.ok}/${TASKS} ok (enqueue retries ${report.tasks.enqueueRetries}), DAGs ${report.dags.ok}/${DAGS} ok (submit retries ${report.dags.submitRetries}), result-watch gaps ${watch.gaps.length}`,
        ...describeCheck(check).map((l) => `chaos: kill-loop ${l}`),
        `chaos: kill-loop engine warnings ${logs.length}${logs.length === 0 ? "" : `:\n  ${logs.slice(0, 20).join("\n  ")}`}`,
      ].join("\n") + "\n",
    );

    expect(kills.length, "kills (a slot still restarting is skipped)").toBeGreaterThanOrEqual(4);
    expect(check.tasksLost).toEqual([]);
    expect(check.tasksWrong).toEqual([]);
    expect(report.tasks.ok).toBe(TASKS);
    expect(check.dagsLost).toEqual([]);
    expect(check.dagsWrong).toEqual([]);
    expect(report.dags.ok).toBe(DAGS);
    expect(watch.gaps).toEqual([]);
    expect(check.resultWrites).toEqual([]);
    expect(check.responses).toEqual([]);
    expect(check.deadLetters).toEqual([]);
    expect(report.lastSettledAt - lastKillAt, `everything settled ${report.lastSettledAt - lastKillAt} ms after the last kill`).toBeLessThanOrEqual(SETTLE_AFTER_LAST_KILL_MS);
  }, 180_000);
});
