/**
 * `ebind/prometheus` without a server: the telemetry hooks called directly feed the counters and
 * histograms (read back by parsing the exposition text), label children are looked up once per task
 * name, and the gauges read fake workers and workflows — a consumer read that hangs or fails is
 * counted and left out, never thrown; the DAG listing is read at most every dagStatusRefreshMs
 * (its counts left out once a refresh fails; more in prometheus-sources.test.ts).
 */
import { Counter, register as globalRegistry, Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AttemptEvent, Broker, ConsumerState } from "../../../src/broker/index.js";
import { prometheusMetrics, type ObservableWorker } from "../../../src/observe/prometheus/index.js";
import { TaskError, type Task } from "../../../src/task/index.js";
import type { WorkerHealth } from "../../../src/worker/index.js";
import type { DagMeta, DagSummary } from "../../../src/workflow/index.js";
import { parseExposition, type Exposition } from "../../support/prom-text.js";

function task(name: string, id = "t1", attempt = 1): Task {
  return { id, name, payload: "[]", enqueuedAt: new Date(), attempt };
}

function attemptEvent(name: string, queueWaitMs = 250): AttemptEvent {
  return { task: task(name), subject: `TASKS.${name}`, durable: "ebind-worker", workerId: "w1", deliveryCount: 1, queueWaitMs };
}

async function read(m: { metrics(): Promise<string> }): Promise<Exposition> {
  return parseExposition(await m.metrics());
}

afterEach(() => vi.restoreAllMocks());

describe("prometheusMetrics options", () => {
  it("uses a registry of its own by default, never the global one", async () => {
    const before = (await globalRegistry.getMetricsAsJSON()).length;
    const m = prometheusMetrics();
    expect(m.registry).not.toBe(globalRegistry);
    expect((await globalRegistry.getMetricsAsJSON()).length).toBe(before);
    expect((await read(m)).types.get("ebind_tasks_started_total")).toBe("counter");
  });

  it("takes a registry and a prefix; the same prefix twice on one registry is refused by prom-client", async () => {
    const registry = new Registry();
    prometheusMetrics({ registry, prefix: "app_" });
    const second = prometheusMetrics({ registry, prefix: "other_" });
    const text = await second.metrics();
    expect(text).toContain("# TYPE app_tasks_started_total counter");
    expect(text).toContain("# TYPE other_handler_duration_seconds histogram");
    expect(() => prometheusMetrics({ registry, prefix: "app_" })).toThrow(/already been registered/);
  });

  it("refuses bad options with invalid_argument naming them", () => {
    expect(() => prometheusMetrics({ prefix: "9bad" })).toThrow(expect.objectContaining({ code: "invalid_argument", message: expect.stringContaining("prefix") }));
    expect(() => prometheusMetrics({ durationBucketsMs: [10, 5] })).toThrow(expect.objectContaining({ code: "invalid_argument", message: expect.stringContaining("durationBucketsMs") }));
    expect(() => prometheusMetrics({ queueWaitBucketsMs: [] })).toThrow(/queueWaitBucketsMs/);
    expect(() => prometheusMetrics({ schedulerLagBucketsMs: [0, 1] })).toThrow(/schedulerLagBucketsMs/);
    expect(() => prometheusMetrics({ scrapeTimeoutMs: 0 })).toThrow(/scrapeTimeoutMs/);
    expect(() => prometheusMetrics({ dagStatusRefreshMs: -1 })).toThrow(/dagStatusRefreshMs/);
    expect(() => prometheusMetrics({ registry: {} as Registry })).toThrow(/registry/);
    const m = prometheusMetrics();
    expect(() => m.observeWorker({} as ObservableWorker)).toThrow(expect.objectContaining({ code: "invalid_argument" }));
    expect(() => m.observeWorkflow(null as never)).toThrow(expect.objectContaining({ code: "invalid_argument" }));
  });

  it("bucket bounds given in ms are exposed in seconds", async () => {
    const m = prometheusMetrics({ durationBucketsMs: [100, 2000] });
    m.telemetry.attempt!(attemptEvent("a"))!.end({ result: "succeeded", durationMs: 150 });
    const e = await read(m);
    expect(e.value("ebind_handler_duration_seconds_bucket", { task: "a", outcome: "succeeded", le: "0.1" })).toBe(0);
    expect(e.value("ebind_handler_duration_seconds_bucket", { task: "a", outcome: "succeeded", le: "2" })).toBe(1);
    expect(e.value("ebind_handler_duration_seconds_sum", { task: "a", outcome: "succeeded" })).toBeCloseTo(0.15);
  });
});

describe("prometheusMetrics telemetry", () => {
  it("counts publishes, attempts by outcome and kind, dead letters, DAG submits and scheduler lag", async () => {
    const m = prometheusMetrics();
    const t = m.telemetry;
    const boom = new TaskError("boom", "failed", { retryable: true });
    t.publish!({ kind: "enqueue", task: task("a"), subject: "TASKS.a" })!.end();
    t.publish!({ kind: "enqueue", task: task("a"), subject: "TASKS.a" })!.end();
    t.publish!({ kind: "step", task: task("a"), subject: "TASKS.a" })!.end();
    t.publish!({ kind: "enqueue", task: task("a"), subject: "TASKS.a" })!.end(new Error("no stream"));
    t.attempt!(attemptEvent("a", 1500))!.end({ result: "retried", durationMs: 20, error: boom, delayMs: 100 });
    t.attempt!(attemptEvent("a"))!.end({ result: "retried", durationMs: 20, error: boom, delayMs: 100 });
    const last = t.attempt!(attemptEvent("a"))!;
    expect(last.run(() => 42)).toBe(42); // run only calls through
    last.end({ result: "failed", durationMs: 30, error: boom });
    t.deadLetter!({ task: task("a"), error: boom, subject: "DLQ.a" });
    t.deadLetter!({ task: undefined, error: new TaskError("decode", "bad envelope"), subject: "DLQ.b" });
    t.attempt!(attemptEvent("b"))!.end({ result: "succeeded", durationMs: 5 });
    t.attempt!(attemptEvent("b"))!.end({ result: "handed-back", durationMs: 7 });
    const submit = t.dagSubmit!({ dagId: "d1", steps: 3, labels: [] })!;
    expect(submit.traceCtx).toBeUndefined();
    submit.end();
    t.dagSubmit!({ dagId: "d2", steps: 3, labels: [] })!.end(new Error("refused"));
    t.schedulerEvent!({ dagId: "d1", kind: "completed", lagMs: 12 });
    const e = await read(m);
    expect(e.value("ebind_tasks_enqueued_total", { task: "a", publish: "enqueue" })).toBe(2);
    expect(e.value("ebind_tasks_enqueued_total", { task: "a", publish: "step" })).toBe(1);
    expect(e.value("ebind_tasks_publish_failed_total", { task: "a", publish: "enqueue" })).toBe(1);
    expect(e.value("ebind_tasks_started_total", { task: "a" })).toBe(3);
    expect(e.value("ebind_tasks_retried_total", { task: "a", kind: "boom" })).toBe(2);
    expect(e.value("ebind_tasks_failed_total", { task: "a", kind: "boom" })).toBe(1);
    expect(e.value("ebind_tasks_dead_lettered_total", { task: "a", kind: "boom" })).toBe(1);
    expect(e.value("ebind_tasks_dead_lettered_total", { task: "b", kind: "decode" })).toBe(1);
    expect(e.value("ebind_tasks_succeeded_total", { task: "b" })).toBe(1);
    expect(e.value("ebind_tasks_handed_back_total", { task: "b" })).toBe(1);
    expect(e.value("ebind_handler_duration_seconds_count", { task: "a", outcome: "retried" })).toBe(2);
    expect(e.value("ebind_handler_duration_seconds_count", { task: "a", outcome: "failed" })).toBe(1);
    expect(e.sum("ebind_handler_duration_seconds_count", { task: "b" })).toBe(2);
    expect(e.value("ebind_queue_wait_seconds_count", { task: "a" })).toBe(3);
    expect(e.value("ebind_queue_wait_seconds_sum", { task: "a" })).toBeCloseTo(2);
    expect(e.value("ebind_dags_submitted_total")).toBe(1);
    expect(e.value("ebind_scheduler_event_lag_seconds_count", { kind: "completed" })).toBe(1);
    expect(e.value("ebind_scheduler_event_lag_seconds_sum", { kind: "completed" })).toBeCloseTo(0.012);
  });

  it("looks label children up once per task name and error kind, not per task", () => {
    const m = prometheusMetrics();
    const labels = vi.spyOn(Counter.prototype, "labels");
    const boom = new TaskError("boom", "x");
    const one = (): void => {
      m.telemetry.publish!({ kind: "enqueue", task: task("hot"), subject: "TASKS.hot" })!.end();
      m.telemetry.attempt!(attemptEvent("hot"))!.end({ result: "succeeded", durationMs: 1 });
      m.telemetry.attempt!(attemptEvent("hot"))!.end({ result: "retried", durationMs: 1, error: boom, delayMs: 1 });
    };
    one();
    const first = labels.mock.calls.length;
    expect(first).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) one();
    expect(labels.mock.calls.length).toBe(first);
  });
});

/** A fake worker whose broker answers consumerState from `states` (a function per durable). */
function fakeWorker(id: string, durables: string[], state: (durable: string) => Promise<ConsumerState | null>, health: Partial<WorkerHealth> = {}): ObservableWorker {
  const broker = { consumerState: (_stream: string, durable: string) => state(durable) } as unknown as Broker;
  return {
    id,
    active: 2,
    freeSlots: 6,
    broker,
    consumers: () => durables.map((durable) => ({ stream: "EBIND_TASKS", durable })),
    health: () => ({ live: true, ready: true, running: true, connected: true, consuming: true, outcomesStored: true, abandoned: [], ...health }),
  };
}

describe("prometheusMetrics gauges", () => {
  it("serve observed workers' slots, health, abandoned handlers and consumers, until unobserved", async () => {
    const m = prometheusMetrics();
    const abandonedAt = new Date();
    const w1 = fakeWorker("w1", ["ebind-worker", "ebind-targets-Z3B1"], async (d) => ({ pending: d === "ebind-worker" ? 5 : 1, ackPending: 2, redelivered: 1, waiting: 3 }), {
      live: false,
      abandoned: [{ taskId: "task-9", name: "deaf", attempt: 1, abortedBecause: "deadline", abandonedAt }],
    });
    const w2 = fakeWorker("w2", ["ebind-worker"], async () => ({ pending: 5, ackPending: 2, redelivered: 1, waiting: 3 }), { ready: false });
    const stop1 = m.observeWorker(w1);
    m.observeWorker(w2);
    let e = await read(m);
    expect(e.value("ebind_handlers_in_flight", { worker: "w1" })).toBe(2);
    expect(e.value("ebind_worker_free_slots", { worker: "w2" })).toBe(6);
    expect(e.value("ebind_worker_ready", { worker: "w1" })).toBe(1);
    expect(e.value("ebind_worker_ready", { worker: "w2" })).toBe(0);
    expect(e.value("ebind_worker_live", { worker: "w1" })).toBe(0);
    expect(e.value("ebind_handlers_abandoned", { worker: "w1", task: "deaf", task_id: "task-9" })).toBe(1);
    expect(e.value("ebind_consumer_pending_messages", { stream: "EBIND_TASKS", durable: "ebind-worker" })).toBe(5); // one series for a shared durable
    expect(e.value("ebind_consumer_pending_messages", { durable: "ebind-targets-Z3B1" })).toBe(1);
    expect(e.value("ebind_consumer_ack_pending_messages", { durable: "ebind-worker" })).toBe(2);
    expect(e.value("ebind_consumer_redelivered_messages", { durable: "ebind-worker" })).toBe(1);
    expect(e.value("ebind_consumer_waiting_pulls", { durable: "ebind-worker" })).toBe(3);
    stop1();
    stop1();
    e = await read(m);
    expect(e.find("ebind_handlers_in_flight").map((s) => s.labels.worker)).toEqual(["w2"]);
    expect(e.find("ebind_handlers_abandoned")).toEqual([]);
    expect(e.find("ebind_consumer_pending_messages").map((s) => s.labels.durable)).toEqual(["ebind-worker"]);
  });

  it("one scrape reads each durable once for its four gauges", async () => {
    const m = prometheusMetrics();
    const reads = vi.fn(async () => ({ pending: 1, ackPending: 0, redelivered: 0, waiting: 0 }));
    m.observeWorker(fakeWorker("w", ["ebind-worker"], reads));
    await read(m);
    expect(reads).toHaveBeenCalledTimes(1);
    await read(m);
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it("a consumer read that hangs past scrapeTimeoutMs or fails is counted and left out; the scrape still answers", async () => {
    const m = prometheusMetrics({ scrapeTimeoutMs: 50 });
    m.observeWorker(
      fakeWorker("w", ["hangs", "fails", "missing", "fine"], (d) => {
        if (d === "hangs") return new Promise(() => undefined);
        if (d === "fails") return Promise.reject(new Error("no responders"));
        if (d === "missing") return Promise.resolve(null);
        return Promise.resolve({ pending: 7, ackPending: 0, redelivered: 0, waiting: 1 });
      }),
    );
    const e = await read(m);
    expect(e.find("ebind_consumer_pending_messages").map((s) => [s.labels.durable, s.value])).toEqual([["fine", 7]]);
    expect(e.value("ebind_scrape_errors_total", { source: "consumer_state" })).toBe(2);
    expect(e.value("ebind_handlers_in_flight", { worker: "w" })).toBe(2);
  });

  it("DAGs by status are read at most every dagStatusRefreshMs and served from the last reading meanwhile", async () => {
    const m = prometheusMetrics({ dagStatusRefreshMs: 60_000 });
    const metas: Array<Pick<DagMeta, "status">> = [{ status: "running" }, { status: "running" }, { status: "done" }];
    const listDags = vi.fn(async () => metas.map((meta) => ({ meta }) as DagSummary));
    const stop = m.observeWorkflow({ listDags });
    let e = await read(m);
    expect(e.value("ebind_dags", { status: "running" })).toBe(2);
    expect(e.value("ebind_dags", { status: "done" })).toBe(1);
    expect(e.value("ebind_dags", { status: "paused" })).toBe(0);
    metas.push({ status: "failed" });
    e = await read(m);
    expect(listDags).toHaveBeenCalledTimes(1);
    expect(e.value("ebind_dags", { status: "failed" })).toBe(0); // the cached reading
    stop();
    expect((await read(m)).find("ebind_dags")).toEqual([]);
  });

  it("with dagStatusRefreshMs 0 every scrape reads; a failed or slow reading is counted and the series are left out", async () => {
    const m = prometheusMetrics({ dagStatusRefreshMs: 0, scrapeTimeoutMs: 50 });
    let mode: "ok" | "fail" | "hang" = "ok";
    const listDags = vi.fn(async (): Promise<DagSummary[]> => {
      if (mode === "fail") throw new Error("bucket unavailable");
      if (mode === "hang") return new Promise(() => undefined);
      return [{ meta: { status: "running" } as DagMeta }];
    });
    m.observeWorkflow({ listDags });
    expect((await read(m)).value("ebind_dags", { status: "running" })).toBe(1);
    mode = "fail";
    let e = await read(m);
    expect(e.find("ebind_dags")).toEqual([]);
    expect(e.value("ebind_scrape_errors_total", { source: "dag_status" })).toBe(1);
    mode = "hang";
    e = await read(m);
    expect(e.find("ebind_dags")).toEqual([]);
    expect(e.value("ebind_scrape_errors_total", { source: "dag_status" })).toBe(2);
    expect(listDags).toHaveBeenCalledTimes(3);
  });
});
