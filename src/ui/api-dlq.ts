/**
 * Dashboard routes over the dead-letter queue: list, show, requeue one or all, purge (public dlq
 * API; a workflow step's task is requeued with `workflow.prepareRequeue`, which reopens its step).
 * @module
 */
import { getDeadLetter, listDeadLetters, purgeDeadLetters, requeueDeadLetter, type DeadLetter } from "../dlq/index.js";
import { HttpError, statusOf, type ApiContext, type Route } from "./routes.js";

/** Default and largest number of entries the list returns. */
export const DLQ_LIST_LIMIT = 200;

/** A DLQ entry as JSON: raw bytes (kept for undecodable messages) in base64. */
function view(letter: DeadLetter): unknown {
  const raw = letter.entry?.raw;
  return {
    ...letter,
    entry: letter.entry && { ...letter.entry, raw: raw && { subject: raw.subject, dataBase64: Buffer.from(raw.data).toString("base64") } },
  };
}

function seqParam(text: string): number {
  const seq = Number(text);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new HttpError(400, `seq must be a positive integer, got ${JSON.stringify(text)}`);
  return seq;
}

async function requeue(ctx: ApiContext, seq: number): Promise<unknown> {
  return requeueDeadLetter(ctx.broker, seq, { prepare: ctx.workflow.prepareRequeue });
}

/** The DLQ routes. */
export const dlqRoutes: readonly Route[] = [
  {
    method: "GET",
    path: "/api/dlq",
    mutating: false,
    handle: async (ctx, { query }) => {
      const limit = Number(query.get("limit") ?? DLQ_LIST_LIMIT);
      if (!Number.isInteger(limit) || limit < 1 || limit > DLQ_LIST_LIMIT) throw new HttpError(400, `limit must be an integer from 1 to ${DLQ_LIST_LIMIT}`);
      const [letters, state] = await Promise.all([listDeadLetters(ctx.broker, { limit }), ctx.broker.streamState("EBIND_DLQ")]);
      return { body: { entries: letters.map(view), total: state?.messages ?? 0 } };
    },
  },
  {
    method: "GET",
    path: "/api/dlq/:seq",
    mutating: false,
    handle: async (ctx, { params }) => ({ body: view(await getDeadLetter(ctx.broker, seqParam(params.seq!))) }),
  },
  {
    method: "POST",
    path: "/api/dlq/:seq/requeue",
    mutating: true,
    handle: async (ctx, { params }) => {
      try {
        return { body: await requeue(ctx, seqParam(params.seq!)) };
      } finally {
        ctx.dlqChanged();
      }
    },
  },
  {
    // Requeues every entry, oldest first; one entry's refusal does not stop the others.
    method: "POST",
    path: "/api/dlq/requeue-all",
    mutating: true,
    handle: async (ctx) => {
      const letters = (await listDeadLetters(ctx.broker, { limit: 0 })).reverse();
      const results: unknown[] = [];
      for (const l of letters) {
        try {
          results.push({ seq: l.seq, ok: true, requeued: await requeue(ctx, l.seq) });
        } catch (err) {
          results.push({ seq: l.seq, ok: false, status: statusOf(err), error: (err as Error).message });
        }
      }
      ctx.dlqChanged();
      return { body: { results, requeued: results.filter((r) => (r as { ok: boolean }).ok).length } };
    },
  },
  {
    method: "POST",
    path: "/api/dlq/purge",
    mutating: true,
    handle: async (ctx) => {
      const purged = await purgeDeadLetters(ctx.broker);
      ctx.dlqChanged();
      return { body: { purged } };
    },
  },
];
