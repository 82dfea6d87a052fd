/**
 * The gauges of `ebind/prometheus`, set when scraped from the observed workers and workflows
 * (sources.ts): each collect starts from empty, so a worker or workflow no longer observed, a
 * handler that returned at last, a durable that could not be read, leave no stale series.
 * @module
 */
import { Gauge, type Registry } from "prom-client";
import { DagStatus } from "../../workflow/index.js";
import type { ResolvedPrometheusOptions } from "./options.js";
import type { DagSources } from "./dag-counts.js";
import type { ConsumerReading, ObservableWorker, ScrapeReads, WorkerSources } from "./sources.js";

/** Registers every gauge on the options' registry, reading `workers` and `workflows` at each scrape. */
export function registerGauges(o: ResolvedPrometheusOptions, workers: WorkerSources, workflows: DagSources, scrape: ScrapeReads): void {
  const registers: Registry[] = [o.registry];
  const perWorker = (name: string, help: string, value: (w: ObservableWorker) => number): void => {
    new Gauge({
      name: o.prefix + name,
      help,
      labelNames: ["worker"],
      registers,
      collect() {
        this.reset();
        for (const w of workers.workers) this.set({ worker: w.id }, value(w));
      },
    });
  };
  perWorker("handlers_in_flight", "Handlers running now, per worker.", (w) => w.active);
  perWorker("worker_free_slots", "Handler slots not held now, per worker (concurrency minus in flight).", (w) => w.freeSlots);
  perWorker("worker_ready", "1 when the worker is ready (running, connected, consuming, outcomes stored), else 0.", (w) => (w.health().ready ? 1 : 0));
  perWorker("worker_live", "1 when no handler that ignored its abort still runs on the worker, else 0.", (w) => (w.health().live ? 1 : 0));

  new Gauge({
    name: `${o.prefix}handlers_abandoned`,
    help: "1 per handler that ignored its abort past its deadline and abortGraceMs and still runs (its slot was given back).",
    labelNames: ["worker", "task", "task_id"],
    registers,
    collect() {
      this.reset();
      for (const w of workers.workers) for (const a of w.health().abandoned) this.set({ worker: w.id, task: a.name, task_id: a.taskId }, 1);
    },
  });

  const perConsumer = (name: string, help: string, value: (r: ConsumerReading) => number): void => {
    new Gauge({
      name: o.prefix + name,
      help,
      labelNames: ["stream", "durable"],
      registers,
      async collect() {
        const readings = await scrape.track(workers.consumers());
        this.reset();
        for (const r of readings) this.set({ stream: r.stream, durable: r.durable }, value(r));
      },
    });
  };
  perConsumer("consumer_pending_messages", "Messages matching an observed worker's durable consumer not yet delivered (NATS num_pending).", (r) => r.state.pending);
  perConsumer("consumer_ack_pending_messages", "Deliveries of an observed worker's durable not yet acknowledged, nak-delayed ones included (NATS num_ack_pending).", (r) => r.state.ackPending);
  perConsumer("consumer_redelivered_messages", "Unacknowledged deliveries of an observed worker's durable delivered more than once (NATS num_redelivered).", (r) => r.state.redelivered);
  perConsumer("consumer_waiting_pulls", "Pull requests waiting at the server on an observed worker's durable (NATS num_waiting).", (r) => r.state.waiting);

  new Gauge({
    name: `${o.prefix}dags`,
    help: `DAGs by status, summed over the observed DAG buckets (one per broker), read at most every dagStatusRefreshMs = ${o.dagStatusRefreshMs} ms; absent while a bucket has no counts that young (a failed or timed-out refresh).`,
    labelNames: ["status"],
    registers,
    async collect() {
      const all = await scrape.track(Promise.all(workflows.buckets().map((b) => b.current())));
      this.reset();
      // No series rather than zeros or a partial sum: nothing observed, or a bucket without young counts.
      if (all.length === 0 || all.some((c) => c === undefined)) return;
      const read = all.filter((c) => c !== undefined);
      const sum = new Map<string, number>(Object.values(DagStatus).map((s) => [s, 0]));
      for (const counts of read) for (const [status, n] of counts) sum.set(status, (sum.get(status) ?? 0) + n);
      for (const [status, n] of sum) this.set({ status }, n);
    },
  });
}
