/**
 * The chaos soak (issue 16): `npm run chaos -- --minutes N` runs rounds of continuous load (tasks and
 * nine-step DAGs) against a 3-node loopback cluster (every stream and bucket at 3 replicas) served by
 * three workflow worker processes (worker + scheduler, each pinned to a node), and injects one fault
 * per round, in turn: SIGKILL of every worker process in a row (each restarted), SIGSTOP of the
 * scheduler leader past its lease, a kill and restart of one node, a stop and restart of every node.
 * After each round it checks that nothing was lost or recorded twice, and at the end prints a summary
 * (tasks, DAGs, lost, duplicates, dead letters, failover times). Exits 1 when any round found a
 * problem, 2 on bad arguments.
 *
 * Options: `--minutes N` (default 5; rounds start until N minutes have passed), `--tasks N` and
 * `--dags N` per round (default 1000 and 25), `--spread-ms N` (default 15000: each round's load is
 * spread over this). The CI variant is the short test suite in test/chaos/faults/.
 * @module
 */
import { parseArgs } from "node:util";
import { openChaosApp, pause, startChaosCluster, underReplicated, waitUntil } from "../test/chaos/faults/app.js";
import { Load } from "../test/chaos/faults/load.js";
import { FaultProcs, failoverMs, leads, type FaultProc } from "../test/chaos/faults/procs.js";
import { watchResults } from "../test/chaos/faults/records.js";
import { checkRun, describeCheck } from "../test/chaos/faults/verify.js";

const FAULTS = ["kill-workers", "sigstop-leader", "node-restart", "full-restart"] as const;
type Fault = (typeof FAULTS)[number];

const LEASE_MS = 1500;
const WORKER_OPTIONS = { replicas: 3, concurrency: 8, ackWaitMs: 2000, leaseMs: LEASE_MS, sweepCheckIntervalMs: 250, sweepIntervalMs: 1000, strandedAfterMs: 15_000 } as const;

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`chaos: --${name} must be a positive number, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: { minutes: { type: "string" }, tasks: { type: "string" }, dags: { type: "string" }, "spread-ms": { type: "string" } },
  strict: true,
});
const minutes = positiveInt("minutes", values.minutes, 5);
const tasksPerRound = Math.floor(positiveInt("tasks", values.tasks, 1000));
const dagsPerRound = Math.floor(positiveInt("dags", values.dags, 25));
const spreadMs = positiveInt("spread-ms", values["spread-ms"], 15_000);

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const totals = { rounds: 0, tasks: 0, dags: 0, tasksLost: 0, dagsLost: 0, wrong: 0, duplicateResults: 0, duplicateResponses: 0, deadLetters: 0, watchGaps: 0 };
const failovers: Record<Fault, number[]> = { "kill-workers": [], "sigstop-leader": [], "node-restart": [], "full-restart": [] };
const problems: string[] = [];

const cluster = await startChaosCluster();
const app = await openChaosApp(cluster);
const procs = new FaultProcs();
const slots: FaultProc[] = [];
const incarnations = [1, 1, 1];
const cleanUp = async (): Promise<void> => {
  await procs.killAll();
  await app.close().catch(() => undefined);
  await cluster.stop();
};

try {
  slots.push(...(await Promise.all([0, 1, 2].map((i) => procs.start(cluster.urls[i]!, i, `p${i}-1`, WORKER_OPTIONS)))));
  await waitUntil("a scheduler leader", 15_000, () => slots.some(leads));
  const under = await underReplicated(app);
  if (under.length > 0) problems.push(`below 3 replicas: ${under.join(", ")}`);
  log(`chaos: soak for ${minutes} min: ${tasksPerRound} tasks and ${dagsPerRound} DAGs per round over ${spreadMs} ms; faults ${FAULTS.join(", ")}`);

  const started = Date.now();
  for (let round = 0; Date.now() - started < minutes * 60_000; round++) {
    const fault = FAULTS[round % FAULTS.length]!;
    const prefix = `r${round}`;
    const watch = watchResults(app, prefix);
    const t0 = Date.now();
    const load = new Load(app, { seed: 1000 + round, tasks: tasksPerRound, dags: dagsPerRound, spreadMs, awaitTimeoutMs: 180_000, dagPrefix: prefix });
    await pause(Math.min(4000, spreadMs / 4));
    const failover = await inject(fault);
    if (failover !== undefined) failovers[fault].push(failover);
    const report = await load.done;
    await watch.stop();
    const check = await checkRun(app, report, watch);
    totals.rounds++;
    totals.tasks += report.tasks.ok;
    totals.dags += report.dags.ok;
    totals.tasksLost += check.tasksLost.length;
    totals.dagsLost += check.dagsLost.length;
    totals.wrong += check.tasksWrong.length + check.dagsWrong.length;
    totals.duplicateResults += check.resultWrites.length;
    totals.duplicateResponses += check.responses.length;
    totals.deadLetters = check.deadLetters.length;
    totals.watchGaps += watch.gaps.length;
    const bad = describeCheck(check).filter((l) => !l.endsWith(": 0"));
    if (bad.length > 0) problems.push(`round ${round} (${fault}): ${bad.join("; ")}`);
    log(
      `chaos: round ${round} ${fault}: ${Date.now() - t0} ms, tasks ${report.tasks.ok}/${tasksPerRound}, DAGs ${report.dags.ok}/${dagsPerRound}` +
        `${failover === undefined ? "" : `, failover ${failover} ms`}${bad.length === 0 ? ", no problems" : `, PROBLEMS: ${bad.join("; ")}`}`,
    );
  }
} catch (err) {
  problems.push(`soak aborted: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  await cleanUp();
}

const stats = (xs: number[]): string => (xs.length === 0 ? "none" : `n=${xs.length} min ${Math.min(...xs)} median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]} max ${Math.max(...xs)} ms`);
log(
  [
    `chaos: summary: ${totals.rounds} rounds; tasks ok ${totals.tasks}, DAGs ok ${totals.dags}`,
    `chaos: summary: lost tasks ${totals.tasksLost}, lost DAGs ${totals.dagsLost}, wrong values ${totals.wrong}, result keys not written once ${totals.duplicateResults}, tasks without exactly one response ${totals.duplicateResponses}, dead letters ${totals.deadLetters}, result-watch gaps ${totals.watchGaps}`,
    ...FAULTS.map((f) => `chaos: summary: failover after ${f}: ${stats(failovers[f])}`),
    `chaos: summary: ${problems.length === 0 ? "no problems" : `PROBLEMS:\n  ${problems.join("\n  ")}`}`,
  ].join("\n"),
);
process.exit(problems.length === 0 ? 0 : 1);

/**
 * Injects `fault`; resolves with its failover time in ms where it has one: for the leader faults,
 * until another process leads; for node faults, from the kill until every worker is ready again.
 */
async function inject(fault: Fault): Promise<number | undefined> {
  switch (fault) {
    case "kill-workers": {
      let leaderFailover: number | undefined;
      for (let i = 0; i < slots.length; i++) {
        const victim = slots[i]!;
        const wasLeader = leads(victim);
        const at = Date.now();
        await procs.kill(victim);
        slots[i] = await procs.start(cluster.urls[i]!, i, `p${i}-${++incarnations[i]!}`, WORKER_OPTIONS);
        if (wasLeader) {
          await waitUntil("a new scheduler leader", 15_000, () => failoverMs(procs.all, victim.id, at) !== undefined);
          leaderFailover = failoverMs(procs.all, victim.id, at);
        }
        await pause(1500);
      }
      return leaderFailover;
    }
    case "sigstop-leader": {
      const leader = slots.find(leads);
      if (leader === undefined) throw new Error("no scheduler leader to stop");
      const at = Date.now();
      leader.child.kill("SIGSTOP");
      try {
        await waitUntil("another scheduler leading", 15_000, () => failoverMs(procs.all, leader.id, at) !== undefined);
        await pause(Math.max(0, at + 4 * LEASE_MS - Date.now()));
      } finally {
        leader.child.kill("SIGCONT");
      }
      return failoverMs(procs.all, leader.id, at);
    }
    case "node-restart": {
      const node = Math.floor(Math.random() * 3);
      const at = Date.now();
      await cluster.killNode(node);
      await pause(2000);
      await cluster.restartNode(node);
      await cluster.waitNodeHealthy(node, 30_000);
      return allReady(at);
    }
    case "full-restart": {
      const at = Date.now();
      await Promise.all(cluster.nodes.map((_, i) => cluster.stopNode(i)));
      await pause(2000);
      await Promise.all(cluster.nodes.map((_, i) => cluster.restartNode(i)));
      await cluster.waitReady(30_000);
      return allReady(at);
    }
  }
}

/** Ms from `at` until every worker process's last readiness line says ready (and it said so after `at`). */
async function allReady(at: number): Promise<number> {
  const readySince = (p: FaultProc): number | undefined => {
    const last = p.lines.filter((l) => l.startsWith("readiness ")).at(-1)?.split(" ");
    return last?.[1] === "true" ? Number(last[2]) : undefined;
  };
  await waitUntil("every worker ready again", 60_000, () => slots.every((p) => readySince(p) !== undefined));
  return Math.max(0, ...slots.map((p) => readySince(p)! - at));
}
