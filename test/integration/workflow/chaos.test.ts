/**
 * Chaos: a 200-step fan-out/fan-in DAG run by three workflow worker processes (worker + scheduler
 * each), one of them SIGKILLed mid-run while it holds running steps. The DAG must finish with every
 * step done, every result written once, the join fed each leaf exactly once, an empty DLQ, and only
 * the killed worker's in-flight leaves run a second time (at-least-once).
 */
import { expect, it } from "vitest";
import { ensureStreams, silentLogger, type Broker } from "../../../src/broker/index.js";
import { listDeadLetters } from "../../../src/dlq/index.js";
import { connectNats } from "../../../src/nats/index.js";
import { DAG_BUCKET, Workflow } from "../../../src/workflow/index.js";
import { CHAOS_LEAVES, chaosDag, chaosLeaf, leafValue } from "../../support/handlers/chaos.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { expectOneResultPutEach, inFlightLeaves, leafRuns, stepLines, useWorkflowWorkerProcesses, watchResultPuts, type WorkflowWorkerProcess } from "../../support/workflow-processes.js";

const SEED = 7;
const CONCURRENCY = 4;
const KILL_AFTER_LEAVES = 40;
/**
 * Each process also schedules. The victim is often the scheduler still publishing the 200 leaves; if
 * it dies between marking a step running and publishing its task, the leader's sweep republishes
 * that task after `strandedAfterMs` (10 min by default). 8 s here: above any wait in this queue (the
 * whole DAG takes ~3 s, a killed worker's tasks come back after 2 s), so a task merely waiting is not
 * republished (which would run it twice), yet a lost one is repaired well inside the test's time.
 */
const WORKER_OPTIONS = { concurrency: CONCURRENCY, ackWaitMs: 2000, leaseMs: 1500, sweepCheckIntervalMs: 250, sweepIntervalMs: 1000, strandedAfterMs: 8000 };

describeNats("workflow chaos", () => {
  const node = useNatsNode();
  const startWorker = useWorkflowWorkerProcesses();

  it(`a ${CHAOS_LEAVES}-step fan-out/fan-in DAG run by three worker processes, one killed mid-run, finishes with every step done once and the right joined result`, async () => {
    const t0 = Date.now();
    const broker: Broker = await connectNats({ servers: node().url });
    const watchStop = new AbortController();
    try {
      await ensureStreams(broker);
      const workflow = await Workflow.create(broker, { logger: silentLogger });
      const procs = await Promise.all(["w1", "w2", "w3"].map((id) => startWorker(node().url, id, WORKER_OPTIONS)));
      const consumer = await broker.consumerSpec("EBIND_TASKS", "ebind-worker");
      expect(consumer?.ackWaitMs).toBe(2000); // a killed worker's tasks come back after 2 s

      const { dag, leaves, join } = chaosDag(workflow, `chaos-${Date.now()}`, SEED, chaosLeaf);

      // Every write of a result key, seen live (results are create-only: one PUT per step).
      const kv = await broker.kv(DAG_BUCKET);
      const results = watchResultPuts(kv, dag.id, watchStop.signal);

      // Once KILL_AFTER_LEAVES leaves have started, kill the next process seen starting a leaf, right
      // away: that leaf sleeps ≥ 20 ms, so the process surely dies holding it (and maybe others).
      const killed = new Promise<{ victim: WorkflowWorkerProcess; runsAtKill: number; openAtKill: string[]; at: number }>((resolve) => {
        const offs: Array<() => void> = [];
        let done = false;
        const check = (proc: WorkflowWorkerProcess): void => {
          if (done || !/^ran leaf-\d+ /.test(proc.lines.at(-1) ?? "")) return;
          const runs = leafRuns(procs);
          if (runs < KILL_AFTER_LEAVES) return;
          done = true;
          proc.child.kill("SIGKILL");
          for (const off of offs) off();
          resolve({ victim: proc, runsAtKill: runs, openAtKill: inFlightLeaves(proc), at: Date.now() });
        };
        for (const p of procs) offs.push(p.onLines(() => check(p)));
      });

      const submittedAt = Date.now();
      await workflow.submit(dag);
      const kill = await killed;
      const { victim } = kill;
      const survivors = procs.filter((p) => p !== victim);
      // Leaves no scheduler had started yet when the victim died (it may have been the one starting them).
      const pendingAtKill = (await workflow.dagInfo(dag.id)).steps.filter((s) => s.status === "pending" && s.stepId.startsWith("leaf-")).length;
      expect(kill.runsAtKill).toBeLessThan(CHAOS_LEAVES / 2); // well before all leaves ran
      expect(await victim.exited).toEqual({ code: null, signal: "SIGKILL" });

      const joined = await workflow.await(join, { timeoutMs: 45_000, pollMs: 100 });
      const finishedAt = Date.now();
      const expectedSum = Array.from({ length: CHAOS_LEAVES }, (_, i) => leafValue(SEED, i)).reduce((a, b) => a + b, 0);
      expect(joined.sum).toBe(expectedSum);
      // The join got each leaf's result exactly once, each in its own position.
      expect(joined.indices).toEqual(Array.from({ length: CHAOS_LEAVES }, (_, i) => i));

      // The DAG and all 202 steps are done.
      let info = await workflow.dagInfo(dag.id);
      for (let i = 0; i < 100 && info.meta.status === "running"; i++) {
        await new Promise((r) => setTimeout(r, 50));
        info = await workflow.dagInfo(dag.id);
      }
      expect(info.meta.status).toBe("done");
      expect(info.steps).toHaveLength(CHAOS_LEAVES + 2);
      expect(info.steps.filter((s) => s.status !== "done").map((s) => `${s.stepId}:${s.status}`)).toEqual([]);
      const ids = new Set(procs.map((p) => p.id));
      for (const s of info.steps) expect(ids.has(s.workerId!), `${s.stepId} recorded by ${String(s.workerId)}`).toBe(true);
      expect(await listDeadLetters(broker)).toEqual([]);

      // Every result written once, with the deterministic value.
      expectOneResultPutEach(results.puts, dag.id, ["root", "join", ...leaves.map((l) => l.id)]);
      for (let i = 0; i < CHAOS_LEAVES; i++) {
        const entry = await kv.get(`${dag.id}.result.leaf-${i}`);
        expect(JSON.parse(new TextDecoder().decode(entry!.value))).toBe(leafValue(SEED, i));
      }

      // Who ran what: stop the survivors cleanly so their stdout is complete.
      for (const p of survivors) p.child.kill("SIGTERM");
      for (const p of survivors) {
        expect(await p.exited).toEqual({ code: 0, signal: null });
        expect(p.lines).toContain(`stopped ${p.id}`);
      }
      const runsByLeaf = new Map<string, string[]>();
      for (const p of procs) for (const s of stepLines(p, "ran")) runsByLeaf.set(s, [...(runsByLeaf.get(s) ?? []), p.id]);
      expect(runsByLeaf.get("root")).toHaveLength(1);
      expect(survivors.map((p) => p.id)).toEqual(expect.arrayContaining(runsByLeaf.get("join") ?? []));
      expect(runsByLeaf.get("join")).toHaveLength(1);
      const missing = leaves.filter((l) => !runsByLeaf.has(l.id)).map((l) => l.id);
      expect(missing).toEqual([]); // every leaf ran at least once
      const twice = leaves.map((l) => l.id).filter((id) => runsByLeaf.get(id)!.length > 1);
      // A second run only for a leaf the killed worker had started, and at most one.
      for (const id of twice) {
        const runners = runsByLeaf.get(id)!;
        expect(runners, id).toHaveLength(2);
        expect(runners.filter((w) => w === victim.id), id).toHaveLength(1);
      }
      expect(twice.length).toBeLessThanOrEqual(CONCURRENCY);
      // The leaves the victim started and never finished were redelivered and finished elsewhere:
      // the kill hit running steps, and they were not lost.
      const interrupted = inFlightLeaves(victim);
      expect(interrupted.length).toBeGreaterThanOrEqual(1);
      expect(twice).toEqual(expect.arrayContaining(interrupted));
      for (const id of interrupted) expect(info.steps.find((s) => s.stepId === id)!.workerId).not.toBe(victim.id);
      for (const p of survivors) expect(stepLines(p, "ran").filter((s) => s.startsWith("leaf-")).length).toBeGreaterThan(0);

      const warnings = procs.flatMap((p) => p.lines.filter((l) => l.startsWith("log ")).map((l) => `${p.id}: ${l}`));
      const leaders = procs.flatMap((p) => p.lines.filter((l) => l.startsWith("leader ") || l.startsWith("follower ")));
      process.stdout.write(
        [
          `chaos: victim ${victim.id} SIGKILLed ${kill.at - submittedAt} ms after submit, at ${kill.runsAtKill} leaf runs, holding ${kill.openAtKill.length} running leaves (${kill.openAtKill.join(",")}); ${pendingAtKill} leaves still pending`,
          `chaos: interrupted leaves (started, never finished on the victim): ${interrupted.join(",") || "none"}`,
          `chaos: leaves run twice: ${twice.length} (${twice.join(",") || "none"}); runs per worker: ${procs.map((p) => `${p.id}=${stepLines(p, "ran").length}`).join(" ")}`,
          `chaos: join done ${finishedAt - kill.at} ms after the kill, ${finishedAt - t0} ms after the test started; leadership: ${leaders.join(", ")}`,
          `chaos: worker warnings: ${warnings.length === 0 ? "none" : "\n  " + warnings.join("\n  ")}`,
        ].join("\n") + "\n",
      );
      watchStop.abort();
      await results.done;
    } finally {
      watchStop.abort();
      await broker.close();
    }
  }, 60_000);
});
