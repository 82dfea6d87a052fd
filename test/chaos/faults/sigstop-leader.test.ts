/**
 * Chaos beyond ebind's suite (issue 16), fault 2: SIGSTOP of the scheduler leader for longer than
 * its lease, then SIGCONT, during continuous load on a 3-node R3 cluster. Two scheduler-only
 * processes (the leader is the first one started) and two worker-only processes, each pinned to a
 * node, so the stopped process holds DAG events and the lease but no running handler.
 *
 * While the leader is stopped, the other scheduler must take the lease and carry every DAG on (the
 * events the stopped one held included); when it wakes it must step down, and nothing it does on
 * waking may run a step again: nothing is killed here, so every step runs exactly once and every
 * result is written once.
 */
import { expect, it } from "vitest";
import { FAULT_STEP_IDS } from "../../support/handlers/faults.js";
import { describeNats } from "../../support/nats.js";
import { pause, Phases, schedulerEvents, underReplicated } from "./app.js";
import { Load } from "./load.js";
import { CHAOS_WORKER_OPTIONS, engineLogs, leads, leadership, runsByStep } from "./procs.js";
import { watchResults } from "./records.js";
import { useChaosApp } from "./use-chaos-app.js";
import { checkRun, describeCheck } from "./verify.js";

const { leaseMs: LEASE_MS, sweepIntervalMs: SWEEP_INTERVAL_MS } = CHAOS_WORKER_OPTIONS;
/** Stopped this long: over six leases, and longer than a stranded step waits to be republished. */
const STOP_MS = 10_000;
/**
 * A running step whose task no worker started is republished after this: below STOP_MS, so the new
 * leader's sweep republishes a step the stopped leader had marked running without publishing its
 * task yet, and the old leader then publishes it too on waking — the race this test is about.
 */
const STRANDED_AFTER_MS = 6000;
const TASKS = 600;
const DAGS = 40;
const SPREAD_MS = 12_000;
/** DAGs submitted at once right after the SIGSTOP. */
const BURST_DAGS = 8;
const COMMON = { ...CHAOS_WORKER_OPTIONS, strandedAfterMs: STRANDED_AFTER_MS } as const;

describeNats("chaos faults: SIGSTOP of the scheduler leader", () => {
  const chaos = useChaosApp();

  it(`the leader stopped ${STOP_MS} ms (lease ${LEASE_MS} ms) then continued: another leads meanwhile, DAGs go on, no step runs twice`, async () => {
    const { cluster: c, app: a, procs } = chaos;
    const phases = new Phases();
    const [s1, s2] = await phases.run("sigstop: start 2 schedulers and 2 workers", async () => {
      const first = await procs.start(c.urls[0]!, 0, "s1", { ...COMMON, role: "scheduler" });
      await first.waitFor(/^leader s1 /, 10_000);
      const rest = await Promise.all([
        procs.start(c.urls[1]!, 1, "s2", { ...COMMON, role: "scheduler" }),
        procs.start(c.urls[1]!, 1, "w1", { ...COMMON, role: "worker", concurrency: 8 }),
        procs.start(c.urls[2]!, 2, "w2", { ...COMMON, role: "worker", concurrency: 8 }),
      ]);
      return [first, rest[0]];
    });
    expect.soft(await underReplicated(a), "streams and buckets below 3 replicas").toEqual([]);

    const watch = watchResults(a, "ss");
    const t0 = Date.now();
    const load = new Load(a, { seed: 202, tasks: TASKS, dags: DAGS, spreadMs: SPREAD_MS, awaitTimeoutMs: 90_000, dagPrefix: "ss" });
    await pause(2500);
    expect(leads(s1), "s1 leads before the stop").toBe(true);
    const stoppedAt = Date.now();
    const settledAtStop = load.progress();
    s1.child.kill("SIGSTOP");
    const dagsBeforeStop = load.submittedDags();
    // A burst of DAGs right after the stop: s1's outstanding event pull (up to 1 s) still receives
    // some of their first events, which s1 then holds, stopped, until the event ack wait sends them
    // to s2 — each such DAG stands still until then.
    const burst = new Load(a, { seed: 203, tasks: 0, dags: BURST_DAGS, spreadMs: 1, awaitTimeoutMs: 90_000, dagPrefix: "ss-b" });

    await pause(1500);
    const held = await schedulerEvents(a);
    phases.note(`sigstop: 1.5 s into the stop, scheduler events held ${held.ackPending}, waiting pulls ${held.waitingPulls}, undelivered ${held.undelivered}; at`, 1500);
    const takeover = await phases.run("sigstop: another scheduler takes the lease", () => s2.waitFor(/^leader s2 /, STOP_MS));
    const failover = Number(takeover.split(" ")[2]) - stoppedAt;
    phases.note("sigstop: failover (SIGSTOP to s2 leading)", failover);
    await pause(Math.max(0, stoppedAt + STOP_MS - Date.now()));
    // The DAGs submitted before the stop finished while s1 was still stopped: the events s1 held
    // were handled by s2, not left for s1's wake-up (or an ack wait of 30 s).
    const unfinished: string[] = [];
    for (const id of [...dagsBeforeStop, ...burst.submittedDags()]) {
      const meta = (await a.workflow.dagInfo(id)).meta;
      if (meta.status !== "done") unfinished.push(`${id}:${meta.status}`);
    }
    const stillStopped = s1.child.signalCode === null && s1.child.exitCode === null;
    const wokeAt = Date.now();
    s1.child.kill("SIGCONT");
    phases.note("sigstop: stopped for", wokeAt - stoppedAt);
    // Waking, s1 finds its lease taken and steps down.
    await phases.run("sigstop: the old leader steps down after SIGCONT", () => s1.waitFor(/^follower s1 /, 10_000));

    const report = await phases.run("sigstop: load settles", () => load.done);
    const burstReport = await burst.done;
    // Past the last completion, the old leader had several sweeps' time to misbehave.
    await pause(3 * SWEEP_INTERVAL_MS);
    await watch.stop();
    const check = await checkRun(a, report, watch);
    const burstCheck = await checkRun(a, burstReport, watch);
    // A clean stop, so every `ran` line is printed and read.
    await procs.stopAll();
    const runs = runsByStep(procs.all);
    const notOnce = [...report.dagIds, ...burstReport.dagIds]
      .flatMap((d) => FAULT_STEP_IDS.map((s) => `${d}/${s}`))
      .map((key) => `${key}=${(runs.get(key) ?? []).join("+") || "none"}`)
      .filter((line) => !/=[^+]+$/.test(line) || line.endsWith("=none"));
    const logs = engineLogs(procs.all);
    process.stdout.write(
      [
        `chaos: sigstop settled before the stop: ${settledAtStop.tasks} tasks, ${settledAtStop.dags} DAGs; DAGs submitted before it: ${dagsBeforeStop.length}`,
        `chaos: sigstop leadership: ${leadership(procs.all).map((l) => `${l.leader ? "leader" : "follower"} ${l.id} @${l.at - t0}`).join(", ")}`,
        `chaos: sigstop tasks ${report.tasks.ok}/${TASKS} ok, DAGs ${report.dags.ok}/${DAGS} ok; steps not run exactly once: ${notOnce.length}${notOnce.length === 0 ? "" : ` (${notOnce.slice(0, 10).join(" ")})`}`,
        ...describeCheck(check).map((l) => `chaos: sigstop ${l}`),
        `chaos: sigstop burst after the stop: DAGs ${burstReport.dags.ok}/${BURST_DAGS} ok; ${describeCheck(burstCheck).join(", ")}`,
        `chaos: sigstop engine warnings ${logs.length}${logs.length === 0 ? "" : `:\n  ${logs.slice(0, 20).join("\n  ")}`}`,
      ].join("\n") + "\n",
    );

    expect(stillStopped, "s1 was still stopped (not dead) when continued").toBe(true);
    expect(dagsBeforeStop.length).toBeGreaterThan(0);
    expect(unfinished, `DAGs submitted before the leader's SIGSTOP or right after it, not done after ${STOP_MS} ms stopped`).toEqual([]);
    expect(check.tasksLost).toEqual([]);
    expect(check.tasksWrong).toEqual([]);
    expect(check.dagsLost).toEqual([]);
    expect(check.dagsWrong).toEqual([]);
    expect(report.dags.ok).toBe(DAGS);
    expect(watch.gaps).toEqual([]);
    expect(check.resultWrites).toEqual([]);
    expect(check.responses).toEqual([]);
    expect(check.deadLetters).toEqual([]);
    expect(burstReport.dags.ok).toBe(BURST_DAGS);
    expect(burstCheck.resultWrites).toEqual([]);
    expect(notOnce, "steps not run exactly once (worker ids per run)").toEqual([]);
  }, 120_000);
});
