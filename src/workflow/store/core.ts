/**
 * What every part of the workflow layer shares: the broker, the state store, the logger and the
 * settings. One instance per `Workflow`.
 * @module
 */
import type { Logger } from "../../broker/logger.js";
import type { Broker } from "../../broker/port.js";
import type { SafeTelemetry } from "../../broker/telemetry-guard.js";
import type { PollWheel } from "./poll-wheel.js";
import type { RecentStarts } from "./recent-starts.js";
import type { SharedWatch } from "./shared-watch.js";
import type { DagStore } from "./store.js";

/** Shared context of the workflow layer. */
export interface WorkflowCore {
  readonly broker: Broker;
  /** Replicas of the workflow's buckets and event stream (the scheduler's lease bucket too). */
  readonly replicas: number;
  readonly store: DagStore;
  readonly logger: Logger;
  /** The workflow's `telemetry` option, safe to call; undefined when none was given. */
  readonly telemetry?: SafeTelemetry | undefined;
  /** Longest error message stored on a failed step, in bytes; 0 = 4096, negative = none (reference §3.26). */
  readonly maxStepErrorBytes: number;
  /** Steps this process just moved to running, for its worker middleware to record the attempt from. */
  readonly recentStarts: RecentStarts;
  /**
   * What every await of this process shares: the watches of step records (`*.step.*`) and metas
   * (`*.meta`), and the timer wheel of their backstop polls.
   */
  readonly awaits: { readonly steps: SharedWatch; readonly metas: SharedWatch; readonly polls: PollWheel };
}

/** How many times a compare-and-set is retried after a conflict (reference §3.16). */
export const CAS_ATTEMPTS = 5;
