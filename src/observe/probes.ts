/**
 * Liveness and readiness of a worker as HTTP answers (status and JSON body), from `worker.health()`:
 * the same truth `worker.ready` and the metrics' `worker_ready`/`worker_live` gauges report.
 * @module
 */
import type { Worker, WorkerHealth } from "../worker/index.js";

/** What the probes read of a worker (a {@link Worker} is one). */
export type HealthSource = Pick<Worker, "health">;

/** A probe's answer: 200 when the condition holds, 503 when it does not, and why. */
export interface ProbeAnswer {
  readonly status: 200 | 503;
  readonly body: Readonly<Record<string, unknown>>;
}

/**
 * Liveness: 200 `{live: true, abandoned: []}`, or 503 when a handler that ignored its abort past
 * its deadline and `abortGraceMs` still runs, the body naming each one (`taskId`, `name`,
 * `attempt`, `abortedBecause`, `abandonedAt` as ISO 8601). A restart is the cure: the handler may
 * hold resources for good.
 */
export function liveness(worker: HealthSource): ProbeAnswer {
  const h = worker.health();
  return {
    status: h.live ? 200 : 503,
    body: {
      live: h.live,
      abandoned: h.abandoned.map((a) => ({ taskId: a.taskId, name: a.name, attempt: a.attempt, abortedBecause: a.abortedBecause, abandonedAt: a.abandonedAt.toISOString() })),
    },
  };
}

/**
 * Readiness: 200 while the worker takes tasks (`worker.ready`: running, connected, consuming,
 * outcomes stored), else 503; the body gives each condition.
 */
export function readiness(worker: HealthSource): ProbeAnswer {
  const h: WorkerHealth = worker.health();
  return {
    status: h.ready ? 200 : 503,
    body: { ready: h.ready, running: h.running, connected: h.connected, consuming: h.consuming, outcomesStored: h.outcomesStored },
  };
}
