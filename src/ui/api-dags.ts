/**
 * Dashboard routes over workflows: the DAG list with filters and counts, one DAG (steps with what
 * they wait on, breakpoints, signals), one step (arguments, result, error, timings, worker), and the
 * controls: pause, resume, cancel, continue a breakpoint, send a signal. Public workflow API only.
 * @module
 */
import type { DagSummary } from "../workflow/index.js";
import { HttpError, stringField, type Route } from "./routes.js";

const AGE_UNITS_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses an age filter: a number with a unit (`90s`, `30m`, `2h`, `7d`).
 * @throws HttpError 400 for anything else.
 */
export function parseAgeMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!m) throw new HttpError(400, `age must be a number with a unit s, m, h or d (e.g. 30m), got ${JSON.stringify(text)}`);
  return Number(m[1]) * AGE_UNITS_MS[m[2]!]!;
}

/** Default and largest number of rows the list returns. */
export const DAG_LIST_LIMIT = 500;

/** How many DAGs are in each status, among those the label and age filters keep. */
function statusCounts(rows: readonly DagSummary[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.meta.status] = (out[r.meta.status] ?? 0) + 1;
  return out;
}

/** The workflow routes. */
export const dagRoutes: readonly Route[] = [
  {
    // ?status=running&labels=a,b&age=2h&id=order&limit=100 → { dags: [{ meta, counts }], total, statusCounts }
    method: "GET",
    path: "/api/dags",
    mutating: false,
    handle: async (ctx, { query }) => {
      const labels = (query.get("labels") ?? "").split(",").map((l) => l.trim()).filter((l) => l !== "");
      const age = query.get("age");
      const createdAfter = age ? new Date(Date.now() - parseAgeMs(age)) : undefined;
      const limitText = query.get("limit");
      const limit = limitText ? Number(limitText) : DAG_LIST_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > DAG_LIST_LIMIT) throw new HttpError(400, `limit must be an integer from 1 to ${DAG_LIST_LIMIT}`);
      const idContains = query.get("id")?.trim() || undefined;
      // Filters and the status counts from the metas alone; step counts only for the rows shown.
      const all = await ctx.workflow.listDags({ labels, createdAfter, idContains });
      const status = (query.get("status") ?? "").toLowerCase();
      const kept = status === "" ? all : all.filter((r) => r.meta.status === status);
      const shown = await ctx.workflow.countDagSteps(kept.slice(0, limit).map((r) => r.meta));
      return { body: { dags: shown, total: kept.length, statusCounts: statusCounts(all) } };
    },
  },
  {
    method: "GET",
    path: "/api/dags/:id",
    mutating: false,
    handle: async (ctx, { params }) => {
      const id = params.id!;
      const [info, breakpoints, signals] = await Promise.all([ctx.workflow.dagInfo(id), ctx.workflow.listBreakpoints(id), ctx.workflow.listSignals(id)]);
      return { body: { ...info, breakpoints, signals } };
    },
  },
  {
    method: "GET",
    path: "/api/dags/:id/steps/:step",
    mutating: false,
    handle: async (ctx, { params }) => {
      const id = params.id!;
      const stepId = params.step!;
      const [info, at, result] = await Promise.all([ctx.workflow.dagInfo(id), ctx.workflow.getStep(id, stepId), ctx.workflow.storedResult(id, stepId)]);
      const view = info.steps.find((s) => s.stepId === stepId);
      if (!view || !at) throw new HttpError(404, `DAG ${id} has no step ${JSON.stringify(stepId)}`);
      const ms = (a?: Date, b?: Date): number | undefined => (a && b ? b.getTime() - a.getTime() : undefined);
      return {
        body: {
          step: view,
          revision: at.revision,
          // The stored bytes as text (JSON as the handler's result was written; "" for an error-only Go handler).
          result: result === undefined ? null : new TextDecoder().decode(result),
          queueMs: ms(view.addedAt, view.startedAt),
          execMs: ms(view.startedAt, view.finishedAt),
        },
      };
    },
  },
  {
    method: "POST",
    path: "/api/dags/:id/pause",
    mutating: true,
    handle: async (ctx, { params }) => ({ body: { status: await ctx.workflow.pause(params.id!) } }),
  },
  {
    method: "POST",
    path: "/api/dags/:id/resume",
    mutating: true,
    handle: async (ctx, { params }) => ({ body: { status: await ctx.workflow.resume(params.id!) } }),
  },
  {
    method: "POST",
    path: "/api/dags/:id/cancel",
    mutating: true,
    handle: async (ctx, { params }) => ({ body: { canceled: await ctx.workflow.cancel(params.id!) } }),
  },
  {
    // body { label }
    method: "POST",
    path: "/api/dags/:id/breakpoint",
    mutating: true,
    handle: async (ctx, { params, body }) => ({ body: { released: await ctx.workflow.resumeBreakpoint(params.id!, stringField(body, "label")) } }),
  },
  {
    // body { name, payload }: payload is JSON text (what the operator typed); "" or absent = no payload.
    method: "POST",
    path: "/api/dags/:id/signal",
    mutating: true,
    handle: async (ctx, { params, body }) => {
      const name = stringField(body, "name");
      const raw = (body as Record<string, unknown>).payload;
      if (raw !== undefined && typeof raw !== "string") throw new HttpError(400, `body field "payload" must be JSON text (a string)`);
      let payload: unknown;
      if (raw !== undefined && raw.trim() !== "") {
        try {
          payload = JSON.parse(raw);
        } catch (err) {
          throw new HttpError(400, `signal payload is not valid JSON (${(err as Error).message}); nothing was sent`);
        }
      }
      return { body: { delivered: await ctx.workflow.signal(params.id!, name, payload) } };
    },
  },
];
