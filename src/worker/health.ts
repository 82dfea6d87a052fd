/**
 * A worker's health as one structure, for liveness and readiness probes and for users: the HTTP
 * probes of `ebind/observe` and {@link Worker.ready} read the same conditions (issue 17).
 * @module
 */
import type { AbandonedHandler } from "./worker.js";

/** What {@link Worker.health} reports. Every field is read at the call; nothing is cached. */
export interface WorkerHealth {
  /**
   * Liveness: the process is not wedged. False while a handler that ignored its `AbortSignal` past
   * its deadline (or timeout, or cancel) plus `abortGraceMs` still runs ({@link abandoned} is not
   * empty): such a handler may hold a thread, a connection or memory for good, and only a restart
   * frees them. True again if every such handler returns at last.
   */
  readonly live: boolean;
  /** Readiness, the same as {@link Worker.ready}: `running && connected && consuming && outcomesStored`. */
  readonly ready: boolean;
  /** Started and not closing. */
  readonly running: boolean;
  /** The broker's connection is up (`broker.connected`; always true on the memory backend). */
  readonly connected: boolean;
  /** Every consumer of the worker (its durable and one per claim) is being served by the server. */
  readonly consuming: boolean;
  /** Outcomes are being stored: none waiting longer than 2 s, the last one not failed within 5 s. */
  readonly outcomesStored: boolean;
  /** The handlers left running after ignoring their abort ({@link Worker.abandoned}), oldest first. */
  readonly abandoned: readonly AbandonedHandler[];
}

/** A durable consumer a worker pulls from. */
export interface WorkerConsumer {
  /** The stream (`EBIND_TASKS`). */
  readonly stream: string;
  /** The durable: the worker's `durable` option, or a claim's `ebind-targets-<b64url(claim)>` durable. */
  readonly durable: string;
}
