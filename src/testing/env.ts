/**
 * A ready test environment for users' own tests (DESIGN.md §6, STYLE 22): a backend, a registry,
 * a started worker and a client in one call, the clock under the test's control, helpers to wait
 * for a task's outcome and to read the DLQ, and one clean teardown.
 * @module
 */
import { ensureStreams, silentLogger, type Broker, type StreamOptions } from "../broker/index.js";
import { ManualClock } from "../broker/clock.js";
import type { ClientOptions } from "../client/index.js";
import { Client, Future } from "../client/index.js";
import { listDeadLetters } from "../dlq/index.js";
import { startNode, type NatsNode } from "../embed/index.js";
import { memoryBroker } from "../memory/index.js";
import { connectNats } from "../nats/index.js";
import type { DlqEntry, Task } from "../task/envelope.js";
import type { TaskError } from "../task/errors.js";
import { EbindError } from "../task/errors.js";
import type { HandlerFn } from "../task/handler.js";
import { Registry } from "../task/registry.js";
import type { StepHook, WorkerOptions } from "../worker/index.js";
import { Worker } from "../worker/index.js";

/** Options of {@link createTestEnv}. All optional. */
export interface TestEnvOptions {
  /**
   * `"memory"`: an in-process broker, no server needed, time on a {@link ManualClock}.
   * `"nats"`: a fresh embedded `nats-server` on a random port with a temporary store (needs the
   * binary on `PATH` or in `NATS_SERVER_BIN`), real time. @default "memory"
   */
  readonly backend?: "memory" | "nats" | undefined;
  /** On memory, use real time instead of a manual clock. @default false */
  readonly realTime?: boolean | undefined;
  /** Handlers registered before the worker starts; more can be registered later on `registry`. */
  readonly handlers?: readonly HandlerFn[] | undefined;
  /** Worker options; the logger is silent unless you pass one. */
  readonly worker?: WorkerOptions | undefined;
  /** Client options; the logger is silent unless you pass one. */
  readonly client?: ClientOptions | undefined;
  /** Stream options for `ensureStreams`. */
  readonly streams?: StreamOptions | undefined;
}

/** The terminal outcome of a task, as the worker recorded it. */
export type TaskOutcome =
  | { readonly taskId: string; readonly ok: true; readonly result: unknown; readonly raw: string | undefined; readonly attempts: number }
  | { readonly taskId: string; readonly ok: false; readonly error: TaskError; readonly attempts: number };

/** What {@link createTestEnv} returns. Close it (or `await using` it) at the end of the test. */
export interface TestEnv extends AsyncDisposable {
  readonly broker: Broker;
  readonly registry: Registry;
  readonly client: Client;
  readonly worker: Worker;
  /** The manual clock on the memory backend; undefined with real time. */
  readonly clock: ManualClock | undefined;
  /** The embedded node with the `"nats"` backend. */
  readonly node: NatsNode | undefined;
  /** Moves time on: the manual clock by `ms` (firing ack waits, nak delays…), or sleeps `ms` with real time. */
  advance(ms: number): Promise<void>;
  /**
   * Waits for the terminal outcome of a task (a {@link Future} or a task id, fire-and-forget tasks
   * included) and returns the latest one recorded. On the manual clock it moves time to the next
   * timer (a retry delay, an ack wait…) whenever nothing has happened for a moment — at once when no
   * handler runs, after 200 ms of real time when handlers run but nothing changes (one may be
   * waiting on another task) — so a test of retries does not sleep.
   * @param options.timeoutMs real time to wait at most. @default 10000
   * @throws EbindError `timeout` when no outcome was recorded in time; `invalid_argument` for a bad
   *   timeout; `closed` after {@link close}.
   */
  outcome(task: Future<unknown> | string, options?: { timeoutMs?: number }): Promise<TaskOutcome>;
  /**
   * Like {@link outcome}, but only an outcome recorded after this call counts: use it after
   * requeueing a dead letter, to wait for the new run.
   */
  nextOutcome(task: Future<unknown> | string, options?: { timeoutMs?: number }): Promise<TaskOutcome>;
  /** The entries in the dead-letter queue, oldest first. */
  deadLetters(): Promise<DlqEntry[]>;
  /** Closes the client, the worker, the broker and the node; idempotent. */
  close(): Promise<void>;
}

/**
 * Creates a ready environment: a backend with the streams, a registry holding `handlers`, a started
 * worker and a client.
 * @throws EbindError `not_found` with `backend: "nats"` when `nats-server` is not installed.
 * @example
 * await using env = await createTestEnv({ handlers: [flaky] });
 * const outcome = await env.outcome(await env.client.enqueue(flaky));
 * expect(outcome).toMatchObject({ ok: true, attempts: 3 });
 */
export async function createTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  if (options === null || typeof options !== "object") throw new EbindError("invalid_argument", `testing: options must be an object, got ${String(options)}`);
  if (options.backend !== undefined && options.backend !== "memory" && options.backend !== "nats") {
    throw new EbindError("invalid_argument", `testing: backend must be "memory" or "nats", got ${JSON.stringify(options.backend)}`);
  }
  const outcomes = new Map<string, TaskOutcome>();
  let recorded = 0;
  const waiters = new Map<string, Array<() => void>>();
  const record = (outcome: TaskOutcome): void => {
    recorded++;
    outcomes.set(outcome.taskId, outcome);
    for (const wake of waiters.get(outcome.taskId) ?? []) wake();
    waiters.delete(outcome.taskId);
  };
  const userHook = options.worker?.stepHook;
  const hook: StepHook = {
    ...(userHook?.onStepStart ? { onStepStart: (task: Task, abort: (reason: TaskError) => void) => userHook.onStepStart!(task, abort) } : {}),
    async onStepDone(task: Task, raw: string | undefined) {
      const settled = await userHook?.onStepDone(task, raw);
      record({ taskId: task.id, ok: true, raw, result: raw === undefined ? undefined : JSON.parse(raw), attempts: task.attempt });
      return settled;
    },
    async onStepFailed(task: Task, error: TaskError) {
      const settled = await userHook?.onStepFailed(task, error);
      record({ taskId: task.id, ok: false, error, attempts: task.attempt });
      return settled;
    },
  };

  let node: NatsNode | undefined;
  let clock: ManualClock | undefined;
  let broker: Broker;
  if (options.backend === "nats") {
    node = await startNode();
    broker = await connectNats({ servers: node.url }).catch(async (err: unknown) => {
      await node?.stop();
      throw err;
    });
  } else {
    clock = options.realTime ? undefined : new ManualClock(Date.now());
    broker = memoryBroker({ clock });
  }
  const registry = new Registry();
  let worker: Worker | undefined;
  let client: Client | undefined;
  const close = async (): Promise<void> => {
    await client?.close().catch(() => undefined);
    await worker?.close().catch(() => undefined);
    await broker.close();
    await node?.stop();
  };
  try {
    await ensureStreams(broker, options.streams);
    for (const handler of options.handlers ?? []) registry.register(handler);
    worker = await Worker.start(broker, registry, { logger: silentLogger, clock, ...options.worker, stepHook: hook });
    client = await Client.create(broker, { logger: silentLogger, clock, ...options.client });
  } catch (err) {
    await close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  const fingerprint = (): string => `${recorded}/${worker.active}/${clock?.pendingTimers ?? 0}/${clock?.now() ?? 0}`;
  const waitFor = async (task: Future<unknown> | string, { timeoutMs = 10_000 }: { timeoutMs?: number } = {}, fresh: boolean): Promise<TaskOutcome> => {
    if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new EbindError("invalid_argument", `testing: timeoutMs must be a finite number of ms ≥ 0, got ${String(timeoutMs)}`);
    }
    const id = task instanceof Future ? task.id : task;
    const stale = fresh ? outcomes.get(id) : undefined;
    const giveUpAt = Date.now() + timeoutMs;
    let last = fingerprint();
    let quietSince = Date.now();
    for (;;) {
      if (closing) throw new EbindError("closed", `testing: the environment was closed while waiting for task ${id}`);
      const done = outcomes.get(id);
      if (done && done !== stale) return done;
      if (Date.now() > giveUpAt) throw new EbindError("timeout", `testing: no outcome for task ${id} within ${timeoutMs} ms`);
      await Promise.race([new Promise<void>((wake) => waiters.set(id, [...(waiters.get(id) ?? []), wake])), sleep(5)]);
      const now = fingerprint();
      if (now !== last) {
        last = now;
        quietSince = Date.now();
        continue;
      }
      // Nothing moved: on the manual clock, jump to the next timer (a retry delay, an ack wait…).
      const quietFor = Date.now() - quietSince;
      if (clock && (worker.active === 0 || quietFor >= 200)) {
        const next = clock.nextDueAt();
        if (next !== undefined) await clock.set(Math.max(next, clock.now()));
      }
    }
  };
  const env: TestEnv = {
    broker,
    registry,
    client,
    worker,
    clock,
    node,
    async advance(ms) {
      if (closing) throw new EbindError("closed", "testing: the environment was closed");
      if (clock) await clock.advance(ms);
      else await sleep(ms);
    },
    outcome(task, opts) {
      return waitFor(task, opts, false);
    },
    nextOutcome(task, opts) {
      return waitFor(task, opts, true);
    },
    async deadLetters() {
      return (await listDeadLetters(broker, { limit: 0 })).flatMap((l) => (l.entry ? [l.entry] : [])).reverse();
    },
    close() {
      closing ??= close();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return env.close();
    },
  };
  return env;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
