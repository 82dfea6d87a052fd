/**
 * Chaos beyond ebind's suite (issue 16), fault 3: every node of the 3-node R3 cluster stopped mid-run
 * and started again from its store directory. The application keeps running throughout: three
 * workflow worker processes (worker + scheduler, each pinned to a node) and the producer stay up and
 * reconnect by themselves; the producer's enqueues, submits and awaits made during the outage wait
 * for the cluster. Everything must resume: every task and DAG completes with its value, each result
 * written once, one response per task, an empty DLQ.
 */
import { expect, it } from "vitest";
import { describeNats } from "../../support/nats.js";
import { pause, Phases, underReplicated, waitUntil } from "./app.js";
import { Load } from "./load.js";
import { CHAOS_WORKER_OPTIONS, engineLogs, runsByStep } from "./procs.js";
import { watchResults } from "./records.js";
import { useChaosApp } from "./use-chaos-app.js";
import { checkRun, describeCheck } from "./verify.js";

const TASKS = 800;
const DAGS = 30;
const SPREAD_MS = 10_000;
/** The cluster goes down this long after the load started, for DOWN_MS. */
const STOP_AT_MS = 4000;
const DOWN_MS = 3000;
/** After the cluster is back, everything settles within this. */
const SETTLE_AFTER_RESTART_MS = 45_000;
const WORKER_OPTIONS = { ...CHAOS_WORKER_OPTIONS, concurrency: 8, strandedAfterMs: 8000 } as const;

describeNats("chaos faults: every node stopped and restarted mid-run", () => {
  const chaos = useChaosApp();

  it(`${TASKS} tasks and ${DAGS} DAGs; all 3 nodes stopped for ${DOWN_MS} ms and restarted from their stores: everything resumes, nothing lost`, async () => {
    const { cluster: c, app: a, procs } = chaos;
    const phases = new Phases();
    const workers = await phases.run("full-restart: start 3 worker processes", () =>
      Promise.all(["f1", "f2", "f3"].map((id, i) => procs.start(c.urls[i]!, i, id, WORKER_OPTIONS))),
    );
    expect.soft(await underReplicated(a), "streams and buckets below 3 replicas").toEqual([]);

    const watch = watchResults(a, "fr");
    const t0 = Date.now();
    const load = new Load(a, { seed: 303, tasks: TASKS, dags: DAGS, spreadMs: SPREAD_MS, awaitTimeoutMs: 120_000, dagPrefix: "fr" });
    await pause(STOP_AT_MS);
    const atStop = load.progress();
    const stepRunsAtStop = runsByStep(workers).size;
    await phases.run("full-restart: stop all 3 nodes", () => Promise.all(c.nodes.map((_, i) => c.stopNode(i))));
    expect(c.nodes.every((n) => !n.running)).toBe(true);
    await pause(DOWN_MS);
    await phases.run("full-restart: restart all 3 nodes from their stores", () => Promise.all(c.nodes.map((_, i) => c.restartNode(i))));
    const restartedAt = Date.now();
    await phases.run("full-restart: cluster ready (meta leader, all peers current)", () => c.waitReady(30_000));
    // Work resumes: a step starts again after the restart.
    await phases.run("full-restart: first step run after the restart", () => waitUntil("a step run after the restart", 30_000, () => runsByStep(workers).size > stepRunsAtStop));

    // Progress every 5 s until settled, for the note.
    const progress: string[] = [];
    const sampler = setInterval(() => {
      const p = load.progress();
      progress.push(`+${Math.round((Date.now() - restartedAt) / 1000)}s ${p.tasks}/${p.dags}`);
    }, 5000);
    const report = await phases.run("full-restart: load settles", () => load.done).finally(() => clearInterval(sampler));
    phases.note("full-restart: restart to last settle", report.lastSettledAt - restartedAt);
    await watch.stop();
    const check = await checkRun(a, report, watch);
    const logs = engineLogs(procs.all);
    process.stdout.write(
      [
        `chaos: full-restart settled tasks/DAGs after the restart: ${progress.join(", ")}`,
        ...workers.map(
          (w) =>
            `chaos: full-restart readiness of ${w.id} (ms from the restart): ${w.lines
              .filter((l) => l.startsWith("readiness "))
              .map((l) => `${l.split(" ")[1]}@${Number(l.split(" ")[2]) - restartedAt}`)
              .join(" ")}`,
        ),
        `chaos: full-restart settled when the nodes stopped: ${atStop.tasks}/${TASKS} tasks, ${atStop.dags}/${DAGS} DAGs (${Date.now() - t0} ms run)`,
        `chaos: full-restart tasks ${report.tasks.ok}/${TASKS} ok (enqueue retries ${report.tasks.enqueueRetries}), DAGs ${report.dags.ok}/${DAGS} ok (submit retries ${report.dags.submitRetries}), result-watch gaps ${watch.gaps.length}${watch.gaps.length === 0 ? "" : ` (${watch.gaps.join("; ")})`}`,
        ...describeCheck(check).map((l) => `chaos: full-restart ${l}`),
        `chaos: full-restart engine warnings ${logs.length}${logs.length === 0 ? "" : `:\n  ${logs.slice(0, 20).join("\n  ")}`}`,
      ].join("\n") + "\n",
    );

    expect(atStop.tasks, "the nodes stopped mid-run").toBeLessThan(TASKS);
    expect(check.tasksLost).toEqual([]);
    expect(check.tasksWrong).toEqual([]);
    expect(report.tasks.ok).toBe(TASKS);
    expect(check.dagsLost).toEqual([]);
    expect(check.dagsWrong).toEqual([]);
    expect(report.dags.ok).toBe(DAGS);
    expect(check.resultWrites).toEqual([]);
    expect(check.responses).toEqual([]);
    expect(check.deadLetters).toEqual([]);
    // The processes rode it out: none exited.
    expect(procs.running().map((p) => p.id)).toEqual(["f1", "f2", "f3"]);
    expect(report.lastSettledAt - restartedAt, "ms from the restart to the last settle").toBeLessThanOrEqual(SETTLE_AFTER_RESTART_MS);
  }, 150_000);
});
