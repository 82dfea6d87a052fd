/**
 * `ebind/prometheus`'s sources as a new user met them: DAG counts during an outage (served only
 * while younger than dagStatusRefreshMs, left out once a refresh fails or times out, each failed
 * reading counted once), and observing the same worker or DAG bucket twice (one source, unobserve
 * refcounted).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Broker, ConsumerState } from "../../../src/broker/index.js";
import { prometheusMetrics, type ObservableWorker, type ObservableWorkflow } from "../../../src/observe/prometheus/index.js";
import type { DagMeta, DagSummary } from "../../../src/workflow/index.js";
import { parseExposition, type Exposition } from "../../support/prom-text.js";

async function read(m: { metrics(): Promise<string> }): Promise<Exposition> {
  return parseExposition(await m.metrics());
}

/** Lets every settled promise's handlers run (a late rejection's bookkeeping included). */
async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

afterEach(() => vi.restoreAllMocks());

function summaries(...statuses: Array<DagMeta["status"]>): DagSummary[] {
  return statuses.map((status) => ({ meta: { status } }) as DagSummary);
}

/** A listDags answering from `next()`: a value, a rejection, or a promise the test settles. */
function controlledListDags(): { listDags: ReturnType<typeof vi.fn<() => Promise<DagSummary[]>>>; next: (answer: () => Promise<DagSummary[]>) => void } {
  let answer: () => Promise<DagSummary[]> = async () => summaries("running");
  return { listDags: vi.fn(() => answer()), next: (a) => (answer = a) };
}

describe("ebind_dags during an outage", () => {
  it("a failed refresh leaves the series out (no stale counts presented as current) and counts one error", async () => {
    const m = prometheusMetrics({ dagStatusRefreshMs: 0, scrapeTimeoutMs: 50 });
    const { listDags, next } = controlledListDags();
    m.observeWorkflow({ listDags });
    expect((await read(m)).value("ebind_dags", { status: "running" })).toBe(1);
    next(() => Promise.reject(new Error("bucket unavailable")));
    const e = await read(m);
    expect(e.find("ebind_dags")).toEqual([]);
    expect(e.value("ebind_scrape_errors_total", { source: "dag_status" })).toBe(1);
    next(async () => summaries("done"));
    expect((await read(m)).value("ebind_dags", { status: "done" })).toBe(1);
  });

  it("a refresh that times out leaves the series out; its later failure is not counted again", async () => {
    const m = prometheusMetrics({ dagStatusRefreshMs: 0, scrapeTimeoutMs: 50 });
    const { listDags, next } = controlledListDags();
    m.observeWorkflow({ listDags });
    expect((await read(m)).value("ebind_dags", { status: "running" })).toBe(1);
    let fail!: (e: Error) => void;
    next(() => new Promise((_, reject) => (fail = reject)));
    let e = await read(m);
    expect(e.find("ebind_dags")).toEqual([]);
    expect(e.value("ebind_scrape_errors_total", { source: "dag_status" })).toBe(1);
    fail(new Error("late failure"));
    await settle();
    next(async () => summaries("running", "done"));
    e = await read(m);
    expect(e.value("ebind_scrape_errors_total", { source: "dag_status" })).toBe(1);
    expect(e.value("ebind_dags", { status: "done" })).toBe(1);
  });

  it("counts are served while younger than dagStatusRefreshMs, and left out once the refresh after that fails", async () => {
    let now = 1_000_000;
    vi.spyOn(performance, "now").mockImplementation(() => now);
    const m = prometheusMetrics({ dagStatusRefreshMs: 10_000, scrapeTimeoutMs: 50 });
    const { listDags, next } = controlledListDags();
    m.observeWorkflow({ listDags });
    expect((await read(m)).value("ebind_dags", { status: "running" })).toBe(1);
    next(() => Promise.reject(new Error("bucket unavailable")));
    now += 9_999;
    expect((await read(m)).value("ebind_dags", { status: "running" })).toBe(1); // still young: not read again
    expect(listDags).toHaveBeenCalledTimes(1);
    now += 1;
    const e = await read(m);
    expect(listDags).toHaveBeenCalledTimes(2);
    expect(e.find("ebind_dags")).toEqual([]);
    expect(e.value("ebind_scrape_errors_total", { source: "dag_status" })).toBe(1);
  });

  it("with two buckets observed, one failing, the sum is left out rather than served short", async () => {
    const m = prometheusMetrics({ dagStatusRefreshMs: 0, scrapeTimeoutMs: 50 });
    const a = controlledListDags();
    const b = controlledListDags();
    m.observeWorkflow({ listDags: a.listDags });
    m.observeWorkflow({ listDags: b.listDags });
    expect((await read(m)).value("ebind_dags", { status: "running" })).toBe(2);
    b.next(() => Promise.reject(new Error("down")));
    expect((await read(m)).find("ebind_dags")).toEqual([]);
  });
});

/** A fake Workflow over `broker` (what the metrics read of one). */
function fakeWorkflow(broker: object, listDags: () => Promise<DagSummary[]>): ObservableWorkflow {
  return { listDags, broker } as unknown as ObservableWorkflow;
}

describe("observing the same source twice", () => {
  it("observeWorkflow(wf) twice counts its DAGs once; its series stay until both unobserves", async () => {
    const m = prometheusMetrics({ dagStatusRefreshMs: 0 });
    const listDags = vi.fn(async () => summaries("running", "done", "done"));
    const wf = fakeWorkflow({}, listDags);
    const first = m.observeWorkflow(wf);
    const second = m.observeWorkflow(wf);
    let e = await read(m);
    expect(e.value("ebind_dags", { status: "done" })).toBe(2);
    expect(e.value("ebind_dags", { status: "running" })).toBe(1);
    expect(listDags).toHaveBeenCalledTimes(1);
    first();
    first(); // idempotent: releases one hold only
    e = await read(m);
    expect(e.value("ebind_dags", { status: "done" })).toBe(2);
    second();
    expect((await read(m)).find("ebind_dags")).toEqual([]);
  });

  it("two Workflows on the same broker (one DAG bucket) count it once, read through one still observed", async () => {
    const m = prometheusMetrics({ dagStatusRefreshMs: 0 });
    const broker = {};
    const one = vi.fn(async () => summaries("done"));
    const two = vi.fn(async () => summaries("done"));
    const stopOne = m.observeWorkflow(fakeWorkflow(broker, one));
    m.observeWorkflow(fakeWorkflow(broker, two));
    m.observeWorkflow(fakeWorkflow({}, async () => summaries("done"))); // another broker: its own bucket
    expect((await read(m)).value("ebind_dags", { status: "done" })).toBe(2);
    expect(one.mock.calls.length + two.mock.calls.length).toBe(1);
    stopOne();
    one.mockClear();
    two.mockClear();
    expect((await read(m)).value("ebind_dags", { status: "done" })).toBe(2);
    expect(one).not.toHaveBeenCalled(); // the unobserved workflow (maybe closed) is not read any more
    expect(two).toHaveBeenCalledTimes(1);
  });

  it("observeWorker(w) twice is one source: the first unobserve leaves its series, the second removes them", async () => {
    const m = prometheusMetrics();
    const state = vi.fn(async (): Promise<ConsumerState> => ({ pending: 3, ackPending: 0, redelivered: 0, waiting: 0 }));
    const w: ObservableWorker = {
      id: "w1",
      active: 1,
      freeSlots: 3,
      broker: { consumerState: state } as unknown as Broker,
      consumers: () => [{ stream: "EBIND_TASKS", durable: "ebind-worker" }],
      health: () => ({ live: true, ready: true, running: true, connected: true, consuming: true, outcomesStored: true, abandoned: [] }),
    };
    const first = m.observeWorker(w);
    const second = m.observeWorker(w);
    first();
    first();
    const e = await read(m);
    expect(e.value("ebind_handlers_in_flight", { worker: "w1" })).toBe(1);
    expect(e.value("ebind_consumer_pending_messages", { durable: "ebind-worker" })).toBe(3);
    second();
    const after = await read(m);
    expect(after.find("ebind_handlers_in_flight")).toEqual([]);
    expect(after.find("ebind_consumer_pending_messages")).toEqual([]);
  });
});
