/**
 * Fuzzing bad input on the wire (issue 12, "Nothing lost, even from bad input"): arbitrary bytes and
 * near-valid envelopes on the task, response, DLQ and DAG-event subjects, and arbitrary records in
 * the workflow bucket, while a real Worker, Client and workflow scheduler run. Nothing crashes
 * (unhandled rejections and uncaught exceptions are collected), the consumers keep serving (a valid
 * task and a valid DAG complete after every batch), and every task-subject message ends as exactly
 * one completed task or one DLQ entry: the task stream empties and
 * new DLQ entries + completions == task messages stored.
 *
 * numRuns: memory backend 200, nats-server 100 (the orphan-step and unroutable properties: 50 and
 * 10). About 7 % of the wire mix's task messages run; at 50 runs on NATS (about 4 expected) a run
 * with none came up in CI-length runs and failed the mix check, at 100 that is about 1 in 1,500.
 */
import fc from "fast-check";
import { afterAll, expect, it } from "vitest";
import { DLQ_STREAM, silentLogger, TASK_STREAM, type Broker } from "../../src/broker/index.js";
import { Client } from "../../src/client/index.js";
import { listDeadLetters, requeueDeadLetter } from "../../src/dlq/index.js";
import { defineHandler, EbindError, Registry, type HandlerContext } from "../../src/task/index.js";
import { Worker, type Middleware } from "../../src/worker/index.js";
import { alwaysLeader, DAG_BUCKET, Workflow } from "../../src/workflow/index.js";
import { describeBackends, openFreshBroker, useCleanups } from "../support/backends.js";
import { eventually } from "../support/queue.js";
import { badKvRecord, badMessage, CLAIM, OK_NAME, orphanStep, unroutableTask, type BadKvRecord, type BadMessage } from "./bad-input-support.js";
import { watchCrashes } from "./values-support.js";

const watch = watchCrashes();
afterAll(() => {
  watch.restore();
  expect(watch.crashes).toEqual([]);
});

const ok = defineHandler(OK_NAME, async (_ctx: HandlerContext, ...args: unknown[]) => args.length);

/** Counts tasks whose handler chain returned (the worker then publishes and acks). */
function completions(): { middleware: Middleware; done: Set<string>; runs: { n: number } } {
  const done = new Set<string>();
  const runs = { n: 0 };
  return {
    done,
    runs,
    middleware: (next) => async (ctx) => {
      const out = await next(ctx);
      runs.n++;
      done.add(ctx.task.id);
      return out;
    },
  };
}

async function streamCount(broker: Broker, stream: string): Promise<number> {
  return (await broker.streamState(stream))?.messages ?? 0;
}

describeBackends("fuzz: bad input on the wire", (backend) => {
  const cleanups = useCleanups();
  const numRuns = backend.name === "memory" ? 200 : 100;

  const property = (label: string, items: (clientId: string) => fc.Arbitrary<Array<BadMessage | BadKvRecord>>, runs: number, mix = true) => async () => {
    const numRuns = runs;
    const broker = await openFreshBroker(backend, cleanups);
    await broker.purgeStream("EBIND_DAG_EVENTS").catch(() => undefined);
    const registry = new Registry();
    registry.register(ok);
    const workflow = await Workflow.create(broker, { logger: silentLogger });
    cleanups.push(async () => workflow.close());
    const counter = completions();
    const worker = await Worker.start(broker, registry, {
      logger: silentLogger,
      pullExpiresMs: 1000,
      claims: [CLAIM],
      claimRetryDelayMs: 20,
      backoffMs: [20],
      stepHook: workflow.stepHook,
      middleware: [counter.middleware, workflow.middleware],
    });
    cleanups.push(() => worker.close());
    const scheduler = await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });
    cleanups.push(() => scheduler.stop());
    const client = await Client.create(broker, { logger: silentLogger });
    cleanups.push(() => client.close());
    const kv = await broker.kv(DAG_BUCKET);
    let run = 0;
    const totals = { stored: 0, completed: 0, deadLettered: 0 };

    const batch = items(client.id);
    await fc.assert(
      fc.asyncProperty(batch, async (items: Array<BadMessage | BadKvRecord>) => {
        run++;
        const dlqBefore = (await broker.streamState(DLQ_STREAM))?.lastSeq ?? 0;
        const runsBefore = counter.runs.n;
        let tasksStored = 0;
        let dlqPublished = 0;
        for (const item of items) {
          if (item.kind === "kv") {
            await kv.put(item.key, item.value);
            continue;
          }
          const ack = await broker.publish(item.subject, item.data, { headers: item.headers }).catch((e: unknown) => {
            // Only a Nats-Expected-Stream header naming another stream makes a publish fail.
            expect(e).toBeInstanceOf(EbindError);
            expect((e as Error).message).toContain("expected stream does not match");
            return undefined;
          });
          if (ack === undefined) continue;
          if (ack.stream === TASK_STREAM && !ack.duplicate) tasksStored++;
          if (ack.stream === DLQ_STREAM && !ack.duplicate) dlqPublished++;
        }
        // The consumers keep serving: a valid task and a valid DAG complete.
        const sentinel = await client.enqueue(ok, 1, 2);
        expect(await sentinel.result({ timeoutMs: 15_000 })).toBe(2);
        const dag = workflow.dag({ id: `sentinel-${label}-${run}` });
        const step = dag.step("s", ok, 1);
        await workflow.submit(dag);
        expect(await workflow.await(step, { timeoutMs: 15_000 })).toBe(1);
        // Every task message ends: the stream empties, and each left one terminal record.
        await eventually(async () => (await streamCount(broker, TASK_STREAM)) === 0, "the task stream to empty", 15_000);
        const dlqAfter = (await broker.streamState(DLQ_STREAM))?.lastSeq ?? 0;
        const deadLettered = dlqAfter - dlqBefore - dlqPublished;
        const completed = counter.runs.n - runsBefore - 2; // less the two sentinels
        expect({ deadLettered, completed, total: deadLettered + completed }).toEqual({ deadLettered, completed, total: tasksStored });
        totals.stored += tasksStored;
        totals.completed += completed;
        totals.deadLettered += deadLettered;
      }),
      { numRuns },
    );
    process.stdout.write(`bad-input fuzz ${label} [${backend.name}]: ${numRuns} runs, ${totals.stored} task messages: ${totals.completed} completed, ${totals.deadLettered} dead-lettered\n`);
    // The mix reached both ends: some bad-looking tasks ran, some were dead-lettered.
    if (mix) {
      expect(totals.completed).toBeGreaterThan(0);
      expect(totals.deadLettered).toBeGreaterThan(0);
    }
    // The DLQ lists every entry, garbage included, without throwing.
    const letters = await listDeadLetters(broker, { limit: 10_000 });
    expect(letters.length).toBe(await streamCount(broker, DLQ_STREAM));
    // Requeue the newest entries: one that holds no task, or a workflow step's (requeued through the
    // workflow), is refused with invalid_argument; each requeued task ends again in exactly one
    // completion or one new DLQ entry.
    const runsBefore = counter.runs.n;
    const dlqBefore = (await broker.streamState(DLQ_STREAM))?.lastSeq ?? 0;
    let requeued = 0;
    // Only entries this worker can run: a task of another name, or targeted at a claim nobody holds,
    // waits for a worker that can (issue 12), which never comes here.
    const runnable = letters.filter((l) => l.entry === undefined || (l.entry.task.name === OK_NAME && (l.entry.task.target ?? CLAIM) === CLAIM));
    for (const letter of runnable.slice(-25)) {
      const outcome = await requeueDeadLetter(broker, letter.seq, { deadline: null }).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (outcome === undefined) {
        requeued++;
        continue;
      }
      expect(outcome).toBeInstanceOf(EbindError);
      // A workflow step's entry needs the workflow's prepare function (README, dead letters): refused without it.
      if (letter.entry?.task.dagId === undefined) expect(letter.entry, `requeue of a readable entry failed: ${(outcome as Error).message}`).toBeUndefined();
      expect((outcome as EbindError).code).toBe("invalid_argument");
    }
    await eventually(async () => (await streamCount(broker, TASK_STREAM)) === 0, "the requeued tasks to end", 30_000);
    await eventually(
      async () => counter.runs.n - runsBefore + ((await broker.streamState(DLQ_STREAM))?.lastSeq ?? 0) - dlqBefore >= requeued,
      "every requeued task to end",
      10_000,
    );
    expect(counter.runs.n - runsBefore + ((await broker.streamState(DLQ_STREAM))?.lastSeq ?? 0) - dlqBefore).toBe(requeued);
    process.stdout.write(`bad-input fuzz ${label} [${backend.name}]: requeued ${requeued} of the newest ${Math.min(25, letters.length)} DLQ entries, each ended once\n`);
  };

  it(
    `never crashes, never wedges, and every task message ends once (${numRuns} runs)`,
    property("wire", (clientId) => fc.array(fc.oneof({ weight: 5, arbitrary: badMessage(clientId) }, { weight: 1, arbitrary: badKvRecord }), { minLength: 1, maxLength: 4 }), numRuns),
  );

  // Found by this fuzzing, fixed: a task envelope naming a DAG step whose DAG does not exist
  // (deleted, never submitted, or a forged id) was acked without a response or a DLQ entry; with
  // ids that are not KV tokens ("a.b"/"c d") the step hook threw and the task was handed back for
  // ever. Both are dead-lettered now, with their bytes.
  it(
    `a DAG step of no DAG ends as a DLQ entry (${backend.name === "memory" ? 50 : 10} runs)`,
    property("orphan-steps", () => fc.array(orphanStep, { minLength: 1, maxLength: 2 }), backend.name === "memory" ? 50 : 10, false),
  );

  // Found by this fuzzing after the worker learned to hand back tasks it has no handler for, fixed:
  // a task whose name no handler can have ("a\u0000b", "a b", "x.*", "") was handed back for ever,
  // waiting for a worker that cannot exist. It is dead-lettered (kind decode) with its bytes now.
  it(
    `a task whose name no handler can have ends as a DLQ entry (${backend.name === "memory" ? 50 : 10} runs)`,
    property("unroutable-names", () => fc.array(unroutableTask, { minLength: 1, maxLength: 2 }), backend.name === "memory" ? 50 : 10, false),
  );
});
