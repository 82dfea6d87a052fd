/**
 * Chaos with pause (issue 11): a 200-step fan-out/fan-in DAG run by three workflow worker processes
 * (worker + scheduler each) is paused mid-run; while it is pausing, one process is SIGKILLed holding
 * running steps. The DAG must drain (the killed worker's steps come back after the ack wait and
 * finish elsewhere), become `paused`, start nothing while paused, and on resume finish with every
 * step done, every result written once, and the right joined result.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { ensureStreams, silentLogger, type Broker } from "../../../src/broker/index.js";
import { listDeadLetters } from "../../../src/dlq/index.js";
import { connectNats } from "../../../src/nats/index.js";
import { DAG_BUCKET, Workflow } from "../../../src/workflow/index.js";
import { CHAOS_LEAVES, chaosDag, chaosSlowLeaf, leafValue } from "../../support/handlers/chaos.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { eventually } from "../../support/queue.js";
import { expectOneResultPutEach, inFlightLeaves, leafRuns, stepLines, useWorkflowWorkerProcesses, watchResultPuts } from "../../support/workflow-processes.js";

const SEED = 11;
const PAUSE_AFTER_LEAVES = 40;
/**
 * Slow leaves keep tasks waiting in the queue for several seconds (200 × 300–600 ms over 12 slots),
 * so a step is republished as stranded only after 30 s — never here unless a task was truly lost.
 */
const WORKER_OPTIONS = { concurrency: 4, ackWaitMs: 2000, leaseMs: 1500, sweepCheckIntervalMs: 250, sweepIntervalMs: 1000, strandedAfterMs: 30_000 };

describeNats("workflow chaos with pause", () => {
  const node = useNatsNode();
  const startWorker = useWorkflowWorkerProcesses();

  it(`a ${CHAOS_LEAVES}-step DAG over three worker processes, paused mid-run with one worker killed while pausing, resumes and finishes every step once`, async () => {
    const broker: Broker = await connectNats({ servers: node().url });
    const watchStop = new AbortController();
    try {
      await ensureStreams(broker);
      const workflow = await Workflow.create(broker, { logger: silentLogger });
      const procs = await Promise.all(["p1", "p2", "p3"].map((id) => startWorker(node().url, id, WORKER_OPTIONS)));
      const { dag, leaves, join } = chaosDag(workflow, `chaos-pause-${Date.now()}`, SEED, chaosSlowLeaf);

      const results = watchResultPuts(await broker.kv(DAG_BUCKET), dag.id, watchStop.signal);

      await workflow.submit(dag);
      await eventually(() => leafRuns(procs) >= PAUSE_AFTER_LEAVES, `${PAUSE_AFTER_LEAVES} leaves started`, 30_000);
      // Pause, and as soon as the DAG is pausing (the meta is written before the fence runs), kill the
      // process holding the most running leaves: it dies while the DAG drains.
      const kv = await broker.kv(DAG_BUCKET);
      const pausing = workflow.pause(dag.id);
      await eventually(async () => /"status":"pausing"/.test(new TextDecoder().decode((await kv.get(`${dag.id}.meta`))?.value)), "the DAG pausing", 10_000);
      const victim = [...procs].sort((a, b) => inFlightLeaves(b).length - inFlightLeaves(a).length)[0]!;
      expect(inFlightLeaves(victim).length).toBeGreaterThan(0);
      victim.child.kill("SIGKILL");
      expect(await victim.exited).toEqual({ code: null, signal: "SIGKILL" });
      // Read once its output is complete: the leaves it had started and not finished.
      const interrupted = inFlightLeaves(victim);
      expect(["pausing", "paused"]).toContain(await pausing);
      const survivors = procs.filter((p) => p !== victim);

      // The killed worker's leaves come back after the ack wait, finish elsewhere, and the DAG is paused.
      await eventually(async () => (await workflow.dagInfo(dag.id)).meta.status === "paused", "the DAG paused", 30_000);
      const atPause = await workflow.dagInfo(dag.id);
      const runsAtPause = procs.map((p) => stepLines(p, "ran").length);
      expect(atPause.steps.filter((s) => s.status === "running")).toEqual([]);
      const waiting = atPause.steps.filter((s) => s.status === "pending");
      expect(waiting.length).toBeGreaterThan(0);
      for (const s of waiting.filter((w) => w.stepId !== "join")) expect(s.held, `${s.stepId} held`).toBe(true);
      for (const id of interrupted) expect(atPause.steps.find((s) => s.stepId === id)?.status, id).toBe("done");

      // Nothing starts while paused (past two ack waits and several sweeps).
      await sleep(2500);
      expect(procs.map((p) => stepLines(p, "ran").length)).toEqual(runsAtPause);
      expect((await workflow.dagInfo(dag.id)).meta.status).toBe("paused");

      expect(await workflow.resume(dag.id)).toBe("running");
      const joined = await workflow.await(join, { timeoutMs: 45_000 });
      const expectedSum = Array.from({ length: CHAOS_LEAVES }, (_, i) => leafValue(SEED, i)).reduce((a, b) => a + b, 0);
      expect(joined.sum).toBe(expectedSum);
      expect(joined.indices).toEqual(Array.from({ length: CHAOS_LEAVES }, (_, i) => i));
      expect((await workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status).toBe("done");

      const info = await workflow.dagInfo(dag.id);
      expect(info.steps.filter((s) => s.status !== "done").map((s) => s.stepId)).toEqual([]);
      expect(await listDeadLetters(broker)).toEqual([]);
      expectOneResultPutEach(results.puts, dag.id, ["root", "join", ...leaves.map((l) => l.id)]);

      for (const p of survivors) p.child.kill("SIGTERM");
      for (const p of survivors) expect(await p.exited).toEqual({ code: 0, signal: null });
      // Each step's outcome was recorded once (above: one result write each). A step ran twice only
      // when the killed worker had run it without its outcome being recorded: the second run was a
      // survivor's, and that is the one the record names.
      const runners = new Map<string, string[]>();
      for (const p of procs) for (const s of stepLines(p, "ran")) runners.set(s, [...(runners.get(s) ?? []), p.id]);
      expect(runners.size).toBe(CHAOS_LEAVES + 2);
      const twice = [...runners.entries()].filter(([, who]) => who.length > 1);
      for (const [stepId, who] of twice) {
        expect(who, stepId).toHaveLength(2);
        expect(who, stepId).toContain(victim.id);
        expect(info.steps.find((s) => s.stepId === stepId)?.workerId, stepId).not.toBe(victim.id);
      }
      expect(twice.map(([s]) => s)).toEqual(expect.arrayContaining(interrupted));
      const warnings = procs.flatMap((p) => p.lines.filter((l) => l.startsWith("log ")).map((l) => `${p.id}: ${l}`));
      expect(warnings.filter((w) => /republishing/.test(w))).toEqual([]);
      process.stdout.write(
        `chaos-pause: paused at ${runsAtPause.reduce((a, b) => a + b, 0)} step runs; victim ${victim.id} killed holding ${interrupted.join(",")}; ${waiting.length} steps held while paused\n`,
      );
      watchStop.abort();
      await results.done;
    } finally {
      watchStop.abort();
      await broker.close();
    }
  }, 90_000);
});
