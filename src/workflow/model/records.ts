/**
 * The workflow's durable records in their TypeScript form (reference §1.7.4–1.7.5, §2.6.6–2.6.10):
 * DAG meta, step records, signal records, events, and the argument placeholders of refs. The JSON
 * wire form (shared with ebind for Go) lives in `codec.ts`; nothing else converts.
 * @module
 */
import type { RetryPolicyData } from "../../task/retry.js";

/** A DAG's status. `pausing`/`paused` belong to pause/resume (reference §3.18). */
export const DagStatus = {
  Running: "running",
  Done: "done",
  Failed: "failed",
  Canceled: "canceled",
  Pausing: "pausing",
  Paused: "paused",
} as const;
/** One of the values of {@link DagStatus}. */
export type DagStatus = (typeof DagStatus)[keyof typeof DagStatus];

/** A step's status. Terminal: done, failed, skipped, canceled. */
export const StepStatus = {
  Pending: "pending",
  Running: "running",
  Done: "done",
  Failed: "failed",
  Skipped: "skipped",
  Canceled: "canceled",
} as const;
/** One of the values of {@link StepStatus}. */
export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];

/**
 * Error kinds the workflow engine itself records on a step that failed without its handler failing
 * (besides the task kinds such as `canceled` and `deadline`).
 */
export const StepErrorKind = {
  /** The step's task would be larger than the server accepts (its arguments, or upstream results it takes). */
  PayloadTooLarge: "payload_too_large",
  /** The step's placement could not be resolved when it was to start (reference §3.23, ebind strands it). */
  Placement: "placement",
  /** No awaited signal arrived within the step's signal timeout. */
  SignalTimeout: "signal_timeout",
} as const;
/** One of the values of {@link StepErrorKind}. */
export type StepErrorKind = (typeof StepErrorKind)[keyof typeof StepErrorKind];

/** Breakpoint state of one position of a step: unset (not hit), `blocked` (advisory mark), `released`. */
export type BreakpointState = "blocked" | "released";

/** Where a step's task is placed (reference §3.23). */
export interface Placement {
  readonly mode?: "direct" | "colocate_with" | "follow_target_of" | "colocate_here" | undefined;
  readonly target?: string | undefined;
  readonly stepId?: string | undefined;
}

/** DAG meta, KV key `<dag>.meta` (reference §2.6.6). */
export interface DagMeta {
  readonly id: string;
  readonly status: DagStatus;
  readonly createdAt: Date;
  readonly defaultPolicy?: RetryPolicyData | undefined;
  /** Unset (wire: zero time) unless paused. */
  readonly pausedAt?: Date | undefined;
  readonly terminalSteps?: readonly string[] | undefined;
  readonly activeBreakpoints?: readonly string[] | undefined;
  readonly labels?: readonly string[] | undefined;
  /**
   * How many step records the submit writes after this meta (an extension, wire `submit_steps`,
   * omitted when unset; ebind for Go ignores it). A DAG with fewer step records than this is
   * half-written — its submit failed part-way — and is never advanced: no scheduler starts its steps
   * (`plan/finalize.ts` `halfWritten`). Absent (metas of ebind for Go) means complete.
   */
  readonly submitSteps?: number | undefined;
  /**
   * The ids of the DAG's steps (an extension, wire `step_ids`, omitted when unset; ebind for Go
   * ignores it and drops it when it rewrites the meta). Written at submit for DAGs of at most
   * {@link STEP_INDEX_MAX} steps and extended by whoever adds a step (`DagStore.touchMeta`), so a
   * scheduler can read a DAG's steps by key instead of listing them: on nats-server 2.9 a listing
   * costs the server time in proportion to every key of the bucket (issue 14: 60 % of the server's
   * CPU in the workflow benchmark). A hint, never the authority: absent means "list the steps", and
   * a scheduler lists them before it finalises a DAG (a step added by a process that does not keep
   * the list, such as ebind for Go, is found then, or by the sweep, which always lists).
   */
  readonly stepIds?: readonly string[] | undefined;
  /**
   * The DAG's trace context (an extension, wire `trace_ctx`, an object of strings omitted when
   * empty; ebind for Go ignores it and drops it when it rewrites the meta): W3C `traceparent` /
   * `tracestate` of the DAG's submit as a telemetry returned it (`WorkflowOptions.telemetry`).
   * Every step's task carries it (unless a telemetry gives the step another), so one DAG is one
   * trace whichever process schedules its steps.
   */
  readonly traceCtx?: Readonly<Record<string, string>> | undefined;
}

/** The most step ids a meta carries in {@link DagMeta.stepIds}; larger DAGs are listed (their listing is shared by many steps). */
export const STEP_INDEX_MAX = 256;

/** A step record, KV key `<dag>.step.<step>` (reference §2.6.7). Empty lists are `[]`, never undefined. */
export interface StepRecord {
  readonly dagId: string;
  readonly stepId: string;
  readonly fnName: string;
  /** The arguments as a raw JSON array; elements may be ref or signal placeholders (§2.6.8). */
  readonly argsJson: string;
  /** Required dependencies: refs first, then after/placement deps, then the dynamic parent; deduped. */
  readonly deps: readonly string[];
  /** Time-only dependencies that never cascade (`afterAny`), minus any required ones. */
  readonly optionalDeps: readonly string[];
  readonly status: StepStatus;
  /** Written by ebind for TypeScript when a worker starts the step (the delivery count); Go writes 0. */
  readonly attempt: number;
  readonly errorKind?: string | undefined;
  readonly errorMessage?: string | undefined;
  readonly optional: boolean;
  readonly held: boolean;
  readonly heldAt?: Date | undefined;
  readonly breakBefore: readonly string[];
  readonly breakAfter: readonly string[];
  readonly bpBefore?: BreakpointState | undefined;
  readonly bpAfter?: BreakpointState | undefined;
  readonly bpBlockedAt?: Date | undefined;
  readonly waitSignals: readonly string[];
  /**
   * How long the step may wait for its signals once its dependencies are satisfied, in ms; the step
   * then fails with kind `signal_timeout`. An extension (wire `signal_timeout`, ns, omitted when
   * unset): ebind for Go ignores it and drops it when it rewrites the record.
   */
  readonly signalTimeoutMs?: number | undefined;
  /** When the step began to wait for its signals with its dependencies satisfied (wire `signal_wait_since`, an extension). */
  readonly signalWaitSince?: Date | undefined;
  readonly policy?: RetryPolicyData | undefined;
  readonly placement?: Placement | undefined;
  readonly workerId?: string | undefined;
  /** When the record was created, on the clock of the process creating it (the submitter, or the worker whose handler added a dynamic step). */
  readonly addedAt: Date;
  /**
   * When the step was last started (marked running, its task published), on the clock of the
   * scheduler (or submitter) that started it — never earlier than `addedAt` nor than the previous
   * start (`run/enqueue.ts` `nextStartTime`). The step's task carries it as `enqueued_at`.
   */
  readonly startedAt?: Date | undefined;
  /**
   * When the step became terminal, on the clock of the process that settled it (the worker for
   * done and failed, the scheduler for skipped and failures found before a start, the canceller),
   * but never earlier than `startedAt` (clamped, {@link finishTime}): clocks of different machines
   * may disagree, and a step must not seem to end before it began (issue 12). The difference is
   * the time from start to end only as far as those clocks agree.
   */
  readonly finishedAt?: Date | undefined;
}

/** A delivered signal, KV key `<dag>.signal.<b64url(name)>` (reference §2.6.10). */
export interface SignalRecord {
  readonly dagId: string;
  readonly name: string;
  /** Raw JSON; `null` when delivered without a payload. */
  readonly payload: string;
  readonly deliveredAt: Date;
}

/** Event kinds on `DAG.<dag>.<kind>.<token>` (reference §2.4, §2.6.9). */
export const EventKind = {
  Completed: "completed",
  StepAdded: "step_added",
  Resumed: "resumed",
  BpHit: "bp_hit",
  BpResumed: "bp_resumed",
  Signal: "signal",
} as const;
/** One of the values of {@link EventKind}. */
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** A workflow event (reference §2.6.9). */
export interface DagEvent {
  readonly kind: EventKind;
  readonly dagId: string;
  readonly stepId: string;
  readonly status?: StepStatus | undefined;
  readonly errorKind?: string | undefined;
  readonly errorMessage?: string | undefined;
  readonly bpPosition?: "before" | "after" | undefined;
  readonly bpLabels?: readonly string[] | undefined;
  readonly signalName?: string | undefined;
  /**
   * For a step's `completed` event: when the step's record was created (an extension, wire
   * `step_added_at`). A DAG deleted and re-created under its id has new records: an event of the
   * old run carries another time and is ignored. Absent in events of ebind for Go.
   */
  readonly stepAddedAt?: Date | undefined;
  /**
   * For a step's `completed` event: the `startedAt` of the start it completes (an extension, wire
   * `step_started_at`). A step reopened by a DLQ requeue has a later start: an event of the earlier
   * one, delivered again, is ignored. Absent in events of ebind for Go, and for steps never started.
   */
  readonly stepStartedAt?: Date | undefined;
  /**
   * For a `completed` event with status done: the step's result as stored, raw JSON (an extension,
   * wire `result`; ebind for Go ignores it). Written only by the run whose result was stored, and
   * only up to {@link EVENT_RESULT_MAX_CHARS}: the scheduler that starts the dependents takes the
   * result from here instead of reading `<dag>.result.<step>` (issue 14). Absent: read the record.
   */
  readonly result?: string | undefined;
}

/** The longest result (in UTF-16 code units of its JSON text) a `completed` event carries; longer ones are read from the store. */
export const EVENT_RESULT_MAX_CHARS = 4096;

/** How a ref argument treats a failed, skipped or canceled upstream (reference §3.13). */
export type RefMode = "required" | "or_default";

/** A ref placeholder inside `argsJson` (reference §2.6.8). */
export interface RefArg {
  readonly stepId: string;
  readonly mode: RefMode;
  /** Raw JSON substituted when the upstream did not succeed (`or_default` only); absent means `null`. */
  readonly defaultJson?: string | undefined;
}

/** A signal placeholder inside `argsJson` (reference §2.6.8). */
export interface SignalArg {
  readonly name: string;
}

/**
 * The `finishedAt` of a step settled now: `now` on this process's clock, or the step's `startedAt`
 * when that is later (written by a scheduler whose clock is ahead of this one's).
 */
export function finishTime(record: Pick<StepRecord, "startedAt">, now: number = Date.now()): Date {
  const started = record.startedAt?.getTime();
  return new Date(started !== undefined && started > now ? started : now);
}

/** Whether a step status is terminal. */
export function isTerminal(status: StepStatus): boolean {
  return status === "done" || status === "failed" || status === "skipped" || status === "canceled";
}
