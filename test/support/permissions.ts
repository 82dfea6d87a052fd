/**
 * The subjects each role of an ebind deployment must be allowed to publish and subscribe to, when
 * an administrator created the streams and buckets first (`ensureTopology`, `ebctl stream ensure`).
 * The README's "Auth, TLS and permissions" section shows the same lists as nats-server
 * configuration; test/integration/auth/permissions.test.ts proves they suffice (no permissions
 * violation in the server's log) and that a role cannot do another's work.
 *
 * Worked out from a run with `trace: true` (every PUB and SUB of each role's connection) and from
 * the code: the JetStream API subjects are `$JS.API.<op>.<stream>…`, KV buckets are the streams
 * `KV_<bucket>` with subjects `$KV.<bucket>.<key>`, acks go to `$JS.ACK.<stream>.<consumer>.…`,
 * replies to requests to `_INBOX.…`, and KV watches (ordered consumers) may send flow-control
 * replies to `$JS.FC.<stream>.…`.
 * @module
 */
import type { SubjectPermissions } from "./auth-servers.js";

/** What every role needs: the JetStream account check made on connect, and replies to its requests. */
const COMMON: SubjectPermissions = { publish: ["$JS.API.INFO"], subscribe: ["_INBOX.>"] };

/** Reading and writing the workflow's KV bucket `ebind-dags`, and watching it. */
const DAG_KV = [
  "$JS.API.STREAM.INFO.KV_ebind-dags",
  "$JS.API.DIRECT.GET.KV_ebind-dags.>",
  "$JS.API.CONSUMER.CREATE.KV_ebind-dags.>",
  "$JS.API.CONSUMER.DELETE.KV_ebind-dags.>",
  "$JS.FC.KV_ebind-dags.>",
  "$KV.ebind-dags.>",
];

/** Opening the workflow layer (`Workflow.create`): the event stream looked up, the DAG bucket. */
const WORKFLOW = ["$JS.API.STREAM.INFO.EBIND_DAG_EVENTS", ...DAG_KV];

function role(publish: readonly string[], subscribe: readonly string[] = []): SubjectPermissions {
  return { publish: [...COMMON.publish, ...publish], subscribe: [...COMMON.subscribe, ...subscribe] };
}

/**
 * A producer: enqueues tasks (`TASKS.>`, `TASKS_TARGET.>`) and receives their results through its
 * own durable on `EBIND_RESP` (created, pulled, acked and deleted by the client); with DAGs, also
 * submits and awaits them (the workflow layer: event stream lookup, the `ebind-dags` bucket).
 */
export const PRODUCER = role([
  "TASKS.>",
  "TASKS_TARGET.>",
  "$JS.API.STREAM.INFO.EBIND_RESP",
  "$JS.API.CONSUMER.CREATE.EBIND_RESP.>",
  "$JS.API.CONSUMER.INFO.EBIND_RESP.>",
  "$JS.API.CONSUMER.MSG.NEXT.EBIND_RESP.>",
  "$JS.API.CONSUMER.DELETE.EBIND_RESP.>",
  "$JS.ACK.EBIND_RESP.>",
  ...WORKFLOW,
]);

/**
 * A worker: consumes `EBIND_TASKS` through the shared durable and its claims' durables, acks,
 * naks and sends in-progress acks (its heartbeat thread too: same user), publishes responses
 * (`RESP.>`), dead letters (`DLQ.>`) and parked tasks (`PARKED.>`), measures the server's clock
 * (`ebind-clock`), follows task pauses (`ebind-task-pauses`) and the max-deliveries advisory; as a
 * workflow worker (the step hook and middleware), also records step results in `ebind-dags` and
 * publishes step events (`DAG.>`).
 */
export const WORKER = role(
  [
    "$JS.API.STREAM.INFO.EBIND_TASKS",
    "$JS.API.CONSUMER.CREATE.EBIND_TASKS.>",
    "$JS.API.CONSUMER.INFO.EBIND_TASKS.>",
    "$JS.API.CONSUMER.MSG.NEXT.EBIND_TASKS.>",
    "$JS.ACK.EBIND_TASKS.>",
    "RESP.>",
    "DLQ.>",
    "PARKED.>",
    "$JS.API.STREAM.INFO.EBIND_PARKED",
    "$JS.API.STREAM.INFO.KV_ebind-clock",
    "$JS.API.DIRECT.GET.KV_ebind-clock.>",
    "$KV.ebind-clock.>",
    "$JS.API.STREAM.INFO.KV_ebind-task-pauses",
    "$JS.API.CONSUMER.CREATE.KV_ebind-task-pauses.>",
    "$JS.API.CONSUMER.DELETE.KV_ebind-task-pauses.>",
    "$JS.FC.KV_ebind-task-pauses.>",
    "DAG.>",
    ...WORKFLOW,
  ],
  ["$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.EBIND_TASKS.>"],
);

/**
 * A scheduler: consumes `EBIND_DAG_EVENTS` through `ebind-scheduler`, holds the leader key in
 * `ebind-leader`, advances DAGs in `ebind-dags` and enqueues their steps (`TASKS.>`,
 * `TASKS_TARGET.>`; `DAG.>` for events it emits itself).
 */
export const SCHEDULER = role([
  "$JS.API.CONSUMER.CREATE.EBIND_DAG_EVENTS.>",
  "$JS.API.CONSUMER.INFO.EBIND_DAG_EVENTS.>",
  "$JS.API.CONSUMER.MSG.NEXT.EBIND_DAG_EVENTS.>",
  "$JS.ACK.EBIND_DAG_EVENTS.>",
  "$JS.API.STREAM.INFO.KV_ebind-leader",
  "$JS.API.DIRECT.GET.KV_ebind-leader.>",
  "$KV.ebind-leader.>",
  "TASKS.>",
  "TASKS_TARGET.>",
  "DAG.>",
  ...WORKFLOW,
]);

/** The roles by name, as the README lists them. */
export const ROLES = { producer: PRODUCER, worker: WORKER, scheduler: SCHEDULER } as const;
