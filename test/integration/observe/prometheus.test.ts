/**
 * `ebind/prometheus` and `ebind/observe` end to end (issue 17): a client, a worker and a workflow
 * with the metrics' telemetry, scraped over HTTP from `serveObservability` and read with a parser of
 * the exposition text. Counters equal the known numbers by task and kind, histograms count every
 * attempt, the consumer gauges show queued tasks, the abandoned-handler gauge and `/healthz` name a
 * handler that ignored its abort, DAGs are counted by status (once per DAG bucket, however many
 * workflows over it are observed); `/readyz` follows a real nats-server
 * stopped and restarted. Over both backends where it makes sense.
 */
import { expect, it } from "vitest";
import { DEFAULT_WORKER_DURABLE, DLQ_STREAM, silentLogger, TASK_STREAM, type Broker } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { connectNats } from "../../../src/nats/index.js";
import { serveObservability, type ObservabilityServer } from "../../../src/observe/index.js";
import { prometheusMetrics, type PrometheusMetrics } from "../../../src/observe/prometheus/index.js";
import { defineHandler, ErrKind, Registry, TaskError } from "../../../src/task/index.js";
import { Worker, type WorkerOptions } from "../../../src/worker/index.js";
import { alwaysLeader, Workflow } from "../../../src/workflow/index.js";
import { describeBackends, openFreshBroker, useCleanups, type BackendUnderTest } from "../../support/backends.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { scrape, type Exposition } from "../../support/prom-text.js";
import { eventually } from "../../support/queue.js";
import { add, double, sum } from "../../support/handlers/workflow.js";

const ok = defineHandler("obs.ok", async (_ctx, n: number) => n + 1);
const flakyRuns = new Map<string, number>();
/** Fails twice (kind `flaky`, retryable) per key, then succeeds. */
const flaky = defineHandler("obs.flaky", async (_ctx, key: string) => {
  const runs = (flakyRuns.get(key) ?? 0) + 1;
  flakyRuns.set(key, runs);
  if (runs <= 2) throw new TaskError("flaky", `run ${runs} of ${key}`, { retryable: true });
  return runs;
});
/** Always fails with kind `boom`, retryably: it ends in the DLQ after the policy's attempts. */
const bad = defineHandler("obs.bad", async () => {
  throw new TaskError("boom", "never works", { retryable: true });
});

let releaseDeaf: (() => void) | undefined;
/** Never settles and ignores its signal until the test calls {@link releaseDeaf}. */
const deaf = defineHandler("obs.deaf", async () => new Promise<string>((resolve) => (releaseDeaf = () => resolve("late"))));

const FAST_RETRIES: WorkerOptions = { defaultRetryPolicy: { maximumAttempts: 3, initialIntervalMs: 20, backoffCoefficient: 1 } };

interface ObsEnv {
  broker: Broker;
  metrics: PrometheusMetrics;
  client: Client;
  startWorker: (options?: WorkerOptions) => Promise<Worker>;
  serve: (worker?: Worker) => Promise<ObservabilityServer>;
}

function useObsEnv(backend: BackendUnderTest): () => Promise<ObsEnv> {
  const cleanups = useCleanups();
  return async () => {
    const broker = await openFreshBroker(backend, cleanups);
    const metrics = prometheusMetrics({ scrapeTimeoutMs: 500, dagStatusRefreshMs: 0 });
    const client = await Client.create(broker, { logger: silentLogger, telemetry: metrics.telemetry });
    cleanups.push(() => client.close());
    const registry = new Registry();
    for (const h of [ok, flaky, bad, deaf]) registry.register(h);
    return {
      broker,
      metrics,
      client,
      async startWorker(options = {}) {
        const worker = await Worker.start(broker, registry, { logger: silentLogger, pullExpiresMs: 1000, telemetry: metrics.telemetry, ...options });
        cleanups.push(() => worker.close().catch(() => undefined));
        const unobserve = metrics.observeWorker(worker);
        cleanups.push(async () => unobserve());
        return worker;
      },
      async serve(worker) {
        const server = await serveObservability({ metrics, worker });
        cleanups.push(() => server.close());
        return server;
      },
    };
  };
}

/** Scrapes until `check` passes on a scrape (counters settle a moment after the futures do), returning that scrape. */
async function scrapeUntil(url: string, check: (e: Exposition) => boolean, what: string): Promise<Exposition> {
  let last: Exposition | undefined;
  await eventually(async () => check((last = await scrape(url))), what);
  return last!;
}

describeBackends("prometheus metrics", (backend) => {
  const env = useObsEnv(backend);

  it("after successes, retries and a failure to the DLQ, the scraped counters equal the known numbers by task and kind", async () => {
    const { broker, client, startWorker, serve } = await env();
    const worker = await startWorker({ ...FAST_RETRIES, concurrency: 4 });
    const obs = await serve(worker);
    const prefix = `${backend.name}-${Date.now()}`;
    const oks = await Promise.all([1, 2, 3, 4, 5].map((n) => client.enqueue(ok, n)));
    const flakies = await Promise.all(["a", "b"].map((k) => client.enqueue(flaky, `${prefix}-${k}`)));
    const doomed = await client.enqueue(bad);
    expect(await Promise.all(oks.map((f) => f.result({ timeoutMs: 10_000 })))).toEqual([2, 3, 4, 5, 6]);
    expect(await Promise.all(flakies.map((f) => f.result({ timeoutMs: 10_000 })))).toEqual([3, 3]);
    const err = (await doomed.result({ timeoutMs: 10_000 }).catch((e: unknown) => e)) as TaskError;
    expect(err.kind).toBe("boom");
    await eventually(async () => (await broker.streamState(DLQ_STREAM))?.messages === 1, "the DLQ entry");

    const started = { "obs.ok": 5, "obs.flaky": 6, "obs.bad": 3 };
    const e = await scrapeUntil(`${obs.url}/metrics`, (s) => s.sum("ebind_handler_duration_seconds_count") === 14 && s.sum("ebind_tasks_dead_lettered_total") === 1, "every attempt ended");
    expect(e.types.get("ebind_tasks_started_total")).toBe("counter");
    expect(e.types.get("ebind_handler_duration_seconds")).toBe("histogram");
    expect(e.value("ebind_tasks_enqueued_total", { task: "obs.ok", publish: "enqueue" })).toBe(5);
    expect(e.value("ebind_tasks_enqueued_total", { task: "obs.flaky", publish: "enqueue" })).toBe(2);
    expect(e.value("ebind_tasks_enqueued_total", { task: "obs.bad", publish: "enqueue" })).toBe(1);
    for (const [task, n] of Object.entries(started)) {
      expect(e.value("ebind_tasks_started_total", { task }), task).toBe(n);
      // Each histogram counts every attempt: one queue wait and one handler time per start.
      expect(e.value("ebind_queue_wait_seconds_count", { task }), task).toBe(n);
      expect(e.sum("ebind_handler_duration_seconds_count", { task }), task).toBe(n);
      expect(e.value("ebind_handler_duration_seconds_bucket", { task, outcome: task === "obs.bad" ? "failed" : "succeeded", le: "+Inf" })).toBe(task === "obs.bad" ? 1 : task === "obs.ok" ? 5 : 2);
    }
    expect(e.value("ebind_tasks_succeeded_total", { task: "obs.ok" })).toBe(5);
    expect(e.value("ebind_tasks_succeeded_total", { task: "obs.flaky" })).toBe(2);
    expect(e.value("ebind_tasks_succeeded_total", { task: "obs.bad" })).toBeUndefined();
    expect(e.value("ebind_tasks_retried_total", { task: "obs.flaky", kind: "flaky" })).toBe(4);
    expect(e.value("ebind_tasks_retried_total", { task: "obs.bad", kind: "boom" })).toBe(2);
    expect(e.value("ebind_tasks_failed_total", { task: "obs.bad", kind: "boom" })).toBe(1);
    expect(e.sum("ebind_tasks_failed_total")).toBe(1);
    expect(e.value("ebind_tasks_dead_lettered_total", { task: "obs.bad", kind: "boom" })).toBe(1);
    expect(e.value("ebind_handler_duration_seconds_count", { task: "obs.flaky", outcome: "retried" })).toBe(4);
    expect(e.value("ebind_handlers_in_flight", { worker: worker.id })).toBe(0);
    expect(e.value("ebind_worker_free_slots", { worker: worker.id })).toBe(4);
    expect(e.value("ebind_worker_ready", { worker: worker.id })).toBe(1);
    expect(e.value("ebind_worker_live", { worker: worker.id })).toBe(1);
    expect(e.find("ebind_handlers_abandoned")).toEqual([]);
  });

  it("the consumer gauges show the tasks queued while no worker runs", async () => {
    const { client, startWorker, serve } = await env();
    const worker = await startWorker();
    await worker.close(); // its durable stays; nothing consumes it now
    const obs = await serve();
    for (let n = 0; n < 4; n++) await client.enqueue(ok, n);
    const labels = { stream: TASK_STREAM, durable: DEFAULT_WORKER_DURABLE };
    const e = await scrapeUntil(`${obs.url}/metrics`, (s) => s.value("ebind_consumer_pending_messages", labels) === 4, "4 tasks pending");
    expect(e.value("ebind_consumer_ack_pending_messages", labels)).toBe(0);
    expect(e.value("ebind_consumer_redelivered_messages", labels)).toBe(0);
    expect(e.value("ebind_consumer_waiting_pulls", labels)).toBeGreaterThanOrEqual(0);
    expect(e.value("ebind_worker_ready", { worker: worker.id })).toBe(0);
    expect(e.value("ebind_scrape_errors_total", { source: "consumer_state" })).toBe(0);
  });

  it("a handler that ignores its abort past deadline and grace: /healthz is 503 naming its task id, and the abandoned gauge shows it", async () => {
    const { client, startWorker, serve } = await env();
    const worker = await startWorker({ abortGraceMs: 200 });
    const obs = await serve(worker);
    const hung = await client.enqueueWith(deaf, { timeoutMs: 1000 });
    const err = (await hung.result({ timeoutMs: 5000 }).catch((e: unknown) => e)) as TaskError;
    expect(err.kind).toBe(ErrKind.Deadline);
    await eventually(async () => (await fetch(`${obs.url}/healthz`)).status === 503, "/healthz 503");
    const body = (await (await fetch(`${obs.url}/healthz`)).json()) as { live: boolean; abandoned: Array<Record<string, unknown>> };
    expect(body.live).toBe(false);
    expect(body.abandoned).toMatchObject([{ taskId: hung.id, name: "obs.deaf", attempt: 1, abortedBecause: "deadline" }]);
    expect((await fetch(`${obs.url}/readyz`)).status).toBe(200); // it still takes tasks: the slot was given back
    const e = await scrape(`${obs.url}/metrics`);
    expect(e.value("ebind_handlers_abandoned", { worker: worker.id, task: "obs.deaf", task_id: hung.id })).toBe(1);
    expect(e.value("ebind_worker_live", { worker: worker.id })).toBe(0);
    releaseDeaf!();
    await eventually(async () => (await scrape(`${obs.url}/metrics`)).find("ebind_handlers_abandoned").length === 0, "the series gone once the handler returned");
    expect((await fetch(`${obs.url}/healthz`)).status).toBe(200);
  });

  it("a workflow's DAG submits, step publishes, scheduler lag and DAGs by status", async () => {
    const { broker, metrics } = await env();
    await broker.purgeStream("EBIND_DAG_EVENTS").catch(() => 0);
    const workflow = await Workflow.create(broker, { logger: silentLogger, telemetry: metrics.telemetry });
    const registry = new Registry();
    for (const h of [add, double, sum]) registry.register(h);
    const worker = await Worker.start(broker, registry, { logger: silentLogger, pullExpiresMs: 1000, stepHook: workflow.stepHook, middleware: [workflow.middleware], telemetry: metrics.telemetry });
    const scheduler = await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });
    const unobserve = metrics.observeWorkflow(workflow);
    const obs = await serveObservability({ metrics });
    try {
      const dag = workflow.dag();
      const a = dag.step("a", add, 1, 2);
      const b = dag.step("b", double, a.ref());
      const c = dag.step("c", double, a.ref());
      dag.step("d", sum, b.ref(), c.ref());
      await workflow.submit(dag);
      await workflow.awaitDag(dag.id, { timeoutMs: 15_000 });
      const e = await scrapeUntil(`${obs.url}/metrics`, (s) => s.sum("ebind_tasks_succeeded_total") === 4, "four steps succeeded");
      expect(e.value("ebind_dags_submitted_total")).toBe(1);
      expect(e.sum("ebind_tasks_enqueued_total", { publish: "step" })).toBe(4);
      expect(e.value("ebind_tasks_enqueued_total", { task: "wf.double", publish: "step" })).toBe(2);
      expect(e.sum("ebind_scheduler_event_lag_seconds_count")).toBeGreaterThan(0);
      expect(e.types.get("ebind_scheduler_event_lag_seconds")).toBe("histogram");
      expect(e.value("ebind_dags", { status: "done" })).toBeGreaterThanOrEqual(1);
      expect(e.value("ebind_dags", { status: "failed" })).toBeDefined();
      // The same workflow again, and a second Workflow on the same broker (the same DAG bucket): counted once.
      const unobserveAgain = metrics.observeWorkflow(workflow);
      const twin = await Workflow.create(broker, { logger: silentLogger });
      const unobserveTwin = metrics.observeWorkflow(twin);
      const again = await scrape(`${obs.url}/metrics`);
      expect(again.value("ebind_dags", { status: "done" })).toBe(e.value("ebind_dags", { status: "done" }));
      expect(again.sum("ebind_dags")).toBe(e.sum("ebind_dags"));
      unobserve();
      unobserveAgain();
      twin.close();
      expect((await scrape(`${obs.url}/metrics`)).value("ebind_dags", { status: "done" })).toBe(e.value("ebind_dags", { status: "done" }));
      unobserveTwin();
      expect((await scrape(`${obs.url}/metrics`)).find("ebind_dags")).toEqual([]);
    } finally {
      await obs.close();
      await scheduler.stop();
      await worker.close();
      workflow.close();
    }
  });
});

describeNats("readiness and scrapes across a nats-server stop", () => {
  const node = useNatsNode();
  const env = useObsEnv({ name: "nats", open: () => connectNats({ servers: node().url }) });

  it("/readyz is 200 while running, 503 once the server is stopped (a scrape still answers, counting its failed reads, DAG counts left out), 200 after the restart", async () => {
    const { broker, metrics, client, startWorker, serve } = await env();
    const worker = await startWorker();
    const workflow = await Workflow.create(broker, { logger: silentLogger });
    const unobserve = metrics.observeWorkflow(workflow);
    const obs = await serve(worker);
    expect((await client.enqueue(ok, 1).then((f) => f.result({ timeoutMs: 10_000 })))).toBe(2);
    let res = await fetch(`${obs.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, running: true, connected: true, consuming: true, outcomesStored: true });
    const before = await scrape(`${obs.url}/metrics`);
    expect(before.value("ebind_consumer_pending_messages", { durable: DEFAULT_WORKER_DURABLE })).toBe(0);
    expect(before.find("ebind_dags").length).toBeGreaterThan(0);

    await node().kill("SIGKILL");
    await eventually(async () => (await fetch(`${obs.url}/readyz`)).status === 503, "/readyz 503 once the server is gone");
    res = await fetch(`${obs.url}/readyz`);
    expect(await res.json()).toMatchObject({ ready: false, connected: false });
    const during = await scrape(`${obs.url}/metrics`);
    expect(during.find("ebind_consumer_pending_messages")).toEqual([]);
    expect(during.value("ebind_scrape_errors_total", { source: "consumer_state" })).toBeGreaterThanOrEqual(1);
    expect(during.find("ebind_dags")).toEqual([]); // no stale counts shown as current
    expect(during.value("ebind_scrape_errors_total", { source: "dag_status" })).toBeGreaterThanOrEqual(1);
    expect(during.value("ebind_worker_ready", { worker: worker.id })).toBe(0);
    expect((await fetch(`${obs.url}/healthz`)).status).toBe(200); // not wedged: only not ready

    await node().restart();
    await eventually(async () => (await fetch(`${obs.url}/readyz`)).status === 200, "/readyz 200 after the restart", 20_000);
    unobserve();
    workflow.close();
  });
});
