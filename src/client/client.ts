/**
 * The producer: enqueue handlers by reference with compile-time-checked arguments, await typed
 * results (reference §1.2, §3.1, §3.8).
 *
 * @example
 * const client = await Client.create(broker);
 * const future = await client.enqueue(greet, "world", true); // checked against greet's parameters
 * const text: string = await future.result();
 * @module
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../broker/logger.js";
import { resolveLogger } from "../broker/logger.js";
import type { Broker, ConsumerSpec, Delivery } from "../broker/port.js";
import { ConsumeLoop } from "../broker/consume-loop.js";
import { resolveClock, type Clock } from "../broker/clock.js";
import { safeTelemetry, type SafeTelemetry } from "../broker/telemetry-guard.js";
import { DLQ_HEADROOM_BYTES, RESPONSE_STREAM, responseDurable, responseSubject, taskPublishSubject } from "../broker/topology.js";
import { decodeResponse, encodeTask } from "../task/codec.js";
import type { Task, TaskResponse } from "../task/envelope.js";
import { EbindError, TaskError } from "../task/errors.js";
import type { ArgsOf, HandlerFn, ResultOf, TaskRef } from "../task/handler.js";
import { describe } from "../task/describe.js";
import type { Dispatcher } from "../task/dispatcher.js";
import { RetryPolicy } from "../task/retry.js";
import { Future, settleFuture } from "./future.js";
import { checkPublishTimeout, checkTraceCtx, resolveAttemptTimeout, resolveDeadline, resolveTarget, validateClientId } from "./checks.js";
import { DEFAULT_RESPONSE_INACTIVE_MS, type ClientOptions, type EnqueueOptions } from "./options.js";

/** Something that can be enqueued: a handler function or a typed reference to one. */
export type Enqueueable = HandlerFn | TaskRef<any, any>;

const utf8 = new TextEncoder();

/** A producer bound to one broker. Create it with {@link Client.create}; close it when done. */
export class Client {
  readonly id: string;
  /** The outstanding futures by task id: each is its own waiter (no promise or closure besides). */
  readonly #waiters = new Map<string, Future<unknown>>();
  readonly #dispatchers = new WeakMap<object, Dispatcher>();
  readonly #logger: Logger;
  readonly #clock: Clock;
  /** The `telemetry` option, safe to call; undefined when none was given. */
  readonly #telemetry: SafeTelemetry | undefined;
  #loop: ConsumeLoop | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(
    private readonly broker: Broker,
    options: ClientOptions,
  ) {
    this.id = options.clientId ?? randomUUID();
    validateClientId(this.id);
    this.#logger = resolveLogger(options.logger, "client.logger");
    this.#clock = resolveClock(options.clock, "client.clock");
    this.#telemetry = safeTelemetry(options.telemetry, this.#logger, "client.telemetry");
  }

  /**
   * Creates a client and its response consumer.
   * @throws EbindError `not_found` when the response stream is missing (call `ensureStreams` first),
   *   `invalid_argument` for a bad client id.
   */
  static async create(broker: Broker, options: ClientOptions = {}): Promise<Client> {
    const client = new Client(broker, options);
    const inactive = options.inactiveThresholdMs ?? DEFAULT_RESPONSE_INACTIVE_MS;
    if (typeof inactive !== "number" || !Number.isFinite(inactive) || inactive < 1000) {
      throw new EbindError("invalid_argument", `client.inactiveThresholdMs must be a number of ms ≥ 1000, got ${String(inactive)}`);
    }
    if ((await broker.streamState(RESPONSE_STREAM)) === null) {
      throw new EbindError("not_found", `client: response stream "${RESPONSE_STREAM}" missing (call ensureStreams first)`);
    }
    const spec: ConsumerSpec = {
      durable: responseDurable(client.id),
      filterSubject: responseSubject(client.id, ">"),
      ackWaitMs: 30_000,
      maxDeliver: -1,
      deliverPolicy: "new",
      inactiveThresholdMs: inactive,
    };
    await broker.ensureConsumer(RESPONSE_STREAM, spec);
    client.#loop = new ConsumeLoop({
      broker,
      stream: RESPONSE_STREAM,
      consumer: spec,
      onDelivery: (d) => client.#route(d),
      // A closing client abandons its responses (its durable is deleted): no need to drain.
      drainOnStop: false,
      onError: (err) => client.#logger.warn({ error: (err as Error).message }, "client: response pull failed; retrying"),
      // No response can arrive any more: fail the futures now rather than leave them waiting.
      onClosed: () => client.#failAll("the broker's connection closed"),
    });
    return client;
  }

  /** Tasks enqueued by this client whose outcome has not arrived yet. */
  get pending(): number {
    return this.#waiters.size;
  }

  /**
   * Enqueues `target(...args)` and returns a {@link Future} of its result. The arguments are checked
   * by the compiler against the handler's parameters, then at run time (count, JSON-faithfulness,
   * declared schemas) before anything is published.
   * @throws TaskError `arg_count` / `arg_type` for bad arguments (nothing is published).
   * @throws EbindError `payload_too_large`, `not_found` (no task stream), `timeout`/`unavailable`, `closed`.
   */
  enqueue<T extends Enqueueable>(target: T, ...args: ArgsOf<T>): Promise<Future<ResultOf<T>>> {
    return this.enqueueWith(target, {}, ...args);
  }

  /** {@link enqueue} with per-task options (deadline, retry policy, target, trace context). */
  async enqueueWith<T extends Enqueueable>(target: T, options: EnqueueOptions, ...args: ArgsOf<T>): Promise<Future<ResultOf<T>>> {
    const dispatcher = this.#describe(target);
    const id = randomUUID();
    const task = await this.#prepare(dispatcher, id, options, args, responseSubject(this.id, id));
    const future = new Future<ResultOf<T>>(id, task.name, dispatcher.resultType);
    this.#waiters.set(id, future); // registered before publishing, so a fast response is not missed
    try {
      await this.#publish(task, options);
    } catch (err) {
      this.#waiters.delete(id);
      throw err;
    }
    return future;
  }

  /**
   * Fire and forget: enqueues without a reply subject and resolves to the task id once the server
   * has stored the task (reference §1.2 `EnqueueAsync`). Throws like {@link enqueue}.
   */
  enqueueAsync<T extends Enqueueable>(target: T, ...args: ArgsOf<T>): Promise<string> {
    return this.enqueueAsyncWith(target, {}, ...args);
  }

  /** {@link enqueueAsync} with per-task options. */
  async enqueueAsyncWith<T extends Enqueueable>(target: T, options: EnqueueOptions, ...args: ArgsOf<T>): Promise<string> {
    const dispatcher = this.#describe(target);
    const id = randomUUID();
    const task = await this.#prepare(dispatcher, id, options, args, undefined);
    await this.#publish(task, options);
    return id;
  }

  /**
   * Stops receiving responses and rejects every outstanding future with `EbindError` code `closed`.
   * The tasks themselves are not affected. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    await this.#loop?.stop();
    this.#failAll("client closed");
    await this.broker.deleteConsumer(RESPONSE_STREAM, responseDurable(this.id)).catch(() => false);
  }

  /** Closes the client for new work and rejects every outstanding future with `closed`. */
  #failAll(why: string): void {
    this.#closed = true;
    for (const [id, future] of this.#waiters) settleFuture(future, new EbindError("closed", `ebind: ${why} before task ${id} finished`));
    this.#waiters.clear();
  }

  #describe(target: Enqueueable): Dispatcher {
    if (this.#closed) throw new EbindError("closed", "ebind: client closed");
    let dispatcher = this.#dispatchers.get(target);
    if (!dispatcher) {
      dispatcher = describe(target);
      this.#dispatchers.set(target, dispatcher);
    }
    return dispatcher;
  }

  async #prepare(dispatcher: Dispatcher, id: string, options: EnqueueOptions, args: readonly unknown[], replyTo: string | undefined): Promise<Task> {
    const name = dispatcher.name;
    try {
      await dispatcher.validateArgs(args);
    } catch (err) {
      if (err instanceof TaskError) throw new TaskError(err.kind, `enqueue ${name}: ${err.detail}`, { retryable: false, cause: err });
      throw err;
    }
    checkPublishTimeout(options, name);
    const now = this.#clock.now();
    return {
      id,
      name,
      payload: dispatcher.encodeArgs(args),
      replyTo,
      deadline: resolveDeadline(options, name, now),
      enqueuedAt: new Date(now),
      attempt: 0,
      traceCtx: checkTraceCtx(options.traceCtx, name),
      retryPolicy: options.retryPolicy === undefined ? undefined : RetryPolicy.from(options.retryPolicy).toData(),
      target: resolveTarget(options.target, name),
      attemptTimeoutMs: resolveAttemptTimeout(options.attemptTimeoutMs, name),
    };
  }

  /**
   * Publishes the task on its subject. With a telemetry, its `publish` hook sees the task first
   * and the trace context it returns replaces the task's; its scope ends with the publish's outcome.
   */
  async #publish(task: Task, options: EnqueueOptions): Promise<void> {
    if (this.#closed) throw new EbindError("closed", "ebind: client closed");
    const subject = taskPublishSubject(task.name, task.target);
    const scope = this.#telemetry === undefined ? undefined : this.#telemetry.publish({ kind: "enqueue", task, subject });
    if (scope === undefined) return this.#send(task, subject, options);
    try {
      await this.#send(scope.traceCtx === undefined ? task : { ...task, traceCtx: scope.traceCtx }, subject, options);
    } catch (err) {
      scope.end(err as Error);
      throw err;
    }
    scope.end();
  }

  async #send(task: Task, subject: string, options: EnqueueOptions): Promise<void> {
    const body = utf8.encode(encodeTask(task));
    const limit = this.broker.maxPayloadBytes - DLQ_HEADROOM_BYTES;
    if (body.length > limit) {
      throw new EbindError(
        "payload_too_large",
        `ebind: enqueue ${task.name}: task of ${body.length} bytes exceeds the largest task this server carries, ${limit} bytes ` +
          `(its max payload of ${this.broker.maxPayloadBytes} bytes less ${DLQ_HEADROOM_BYTES} kept for the dead-letter entry)`,
      );
    }
    try {
      await this.broker.publish(subject, body, { msgId: task.id, timeoutMs: options.publishTimeoutMs });
    } catch (err) {
      const code = err instanceof EbindError ? err.code : "unavailable";
      throw new EbindError(code, `ebind: enqueue ${task.name}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Routes one response to its waiter; a response nobody waits for is acked and dropped (§3.1). */
  #route(delivery: Delivery): void {
    let response: TaskResponse;
    try {
      response = decodeResponse(delivery.data);
    } catch (err) {
      // RESP.<client>.<task id>: the task is known by its subject, and by its name when awaited here.
      const taskId = delivery.subject.split(".").slice(2).join(".");
      this.#logger.warn(
        { task_id: taskId, name: this.#waiters.get(taskId)?.name, subject: delivery.subject, error: (err as Error).message },
        "client: undecodable response terminated",
      );
      delivery.term();
      return;
    }
    const future = this.#waiters.get(response.taskId);
    if (future) {
      this.#waiters.delete(response.taskId);
      settleFuture(future, response);
    }
    delivery.ack();
  }
}
