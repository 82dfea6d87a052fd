/**
 * The dashboard's route table: one entry per operation, each a small handler over the engine's
 * public API (bull-board's shape: a table, and handlers that only call the engine). A route that
 * changes something is `mutating`: reached only by POST with the token (see `security.ts`).
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { Broker, Logger } from "../broker/index.js";
import { EbindError } from "../task/index.js";
import { WorkflowError, type Workflow } from "../workflow/index.js";

/** What a handler works with. */
export interface ApiContext {
  readonly broker: Broker;
  readonly workflow: Workflow;
  readonly logger: Logger;
  /** Tells the live stream that the DLQ changed (for backends whose DLQ cannot be followed). */
  readonly dlqChanged: () => void;
}

/** One request as a handler sees it. */
export interface ApiRequest {
  /** The path's `:name` parts, decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body of a POST (`{}` when empty); undefined for GET. */
  readonly body: unknown;
}

/** A handler's answer: a status (default 200) and a JSON body. */
export interface ApiResponse {
  readonly status?: number;
  readonly body: unknown;
}

/** One route: method, path pattern (`/api/dags/:id`), whether it changes something, the handler. */
export interface Route {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly mutating: boolean;
  readonly handle: (ctx: ApiContext, req: ApiRequest) => Promise<ApiResponse>;
}

/** An error a handler throws to answer with a 4xx status and a message. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A matched route and its path parameters, or undefined. */
export function matchRoute(routes: readonly Route[], pathname: string): { route: Route; params: Record<string, string> } | undefined {
  const parts = pathname.split("/");
  for (const route of routes) {
    const pattern = route.path.split("/");
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i]!;
      const got = parts[i]!;
      if (p.startsWith(":")) {
        try {
          params[p.slice(1)] = decodeURIComponent(got);
        } catch {
          ok = false;
        }
        ok &&= got !== "";
      } else ok = p === got;
    }
    if (ok) return { route, params };
  }
  return undefined;
}

/** The HTTP status for an error of the engine's API; 500 for anything else. */
export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof WorkflowError) {
    switch (err.code) {
      case "dag_not_found":
      case "step_not_found":
      case "signal_not_found":
        return 404;
      case "invalid":
        return 400;
      default:
        return 409;
    }
  }
  if (err instanceof EbindError) {
    switch (err.code) {
      case "invalid_argument":
        return 400;
      case "not_found":
        return 404;
      case "conflict":
        return 409;
      case "timeout":
      case "unavailable":
        return 503;
      default:
        return 500;
    }
  }
  return 500;
}

/** Longest JSON body a POST may carry, in bytes (a signal payload fits; anything larger is refused). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads and parses a POST body as JSON (`{}` when empty).
 * @throws HttpError 413 past {@link MAX_BODY_BYTES}; 400 for a body that is not JSON.
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `request body is not JSON: ${(err as Error).message}`);
  }
}

/** A string field of a JSON body. @throws HttpError 400 when absent or not a non-empty string. */
export function stringField(body: unknown, name: string): string {
  const v = typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof v !== "string" || v === "") throw new HttpError(400, `body field "${name}" must be a non-empty string`);
  return v;
}
