/**
 * The dashboard's HTTP server: security checks first (`security.ts`), then the route table
 * (`api-*.ts`), the live event stream (`live.ts`) and the page's files (`assets.ts`).
 * @module
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolveLogger, type Broker, type Logger } from "../broker/index.js";
import { EbindError } from "../task/index.js";
import type { Workflow } from "../workflow/index.js";
import { dagRoutes } from "./api-dags.js";
import { dlqRoutes } from "./api-dlq.js";
import { streamRoutes } from "./api-streams.js";
import { loadAssets, type Assets } from "./assets.js";
import { LiveFeed } from "./live.js";
import { matchRoute, readJsonBody, statusOf, type ApiContext, type Route } from "./routes.js";
import { checkRequest, isLoopbackHost, SECURITY_HEADERS, sendJson, type Guard } from "./security.js";

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /** The broker the workflow runs on (DLQ, streams); a `NatsBroker` gets the full stream listing. */
  readonly broker: Broker;
  /** The workflow handle whose DAGs are shown and controlled. */
  readonly workflow: Workflow;
  /**
   * Address to listen on. Anything but a loopback address (127.0.0.0/8, ::1, localhost) makes every
   * request, reads included, need the token. @default "127.0.0.1"
   */
  readonly host?: string | undefined;
  /** TCP port; 0 picks a free one (read it from the returned `url`). @default 0 */
  readonly port?: number | undefined;
  /**
   * The secret every change (and on a non-loopback bind every request) must present; at least 16
   * characters. @default 32 random bytes (`crypto.randomBytes`), base64url
   */
  readonly token?: string | undefined;
  /** @default consoleLogger("warn") */
  readonly logger?: Logger | undefined;
}

/** A running dashboard. */
export interface Dashboard extends AsyncDisposable {
  /** The address to open, with the token in the fragment (`http://127.0.0.1:PORT/#token=…`); print it at start. */
  readonly url: string;
  /** The token (generated when none was given). */
  readonly token: string;
  /** The port bound. */
  readonly port: number;
  /** Stops listening, ends the live streams and the watch. Idempotent; the broker and workflow stay open. */
  close(): Promise<void>;
}

/** Minimum length of a caller's token. */
export const MIN_TOKEN_LENGTH = 16;

/** Literal paths before parameterised ones, so `/api/dlq/purge` is never taken for `/api/dlq/:seq`. */
const ROUTES: readonly Route[] = [...dagRoutes, ...dlqRoutes, ...streamRoutes].sort(
  (a, b) => a.path.split(":").length - b.path.split(":").length,
);

function validate(options: DashboardOptions): { host: string; port: number; token: string } {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  if (typeof host !== "string" || host === "") throw new EbindError("invalid_argument", "dashboard: host must be a non-empty string");
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new EbindError("invalid_argument", `dashboard: port must be an integer from 0 to 65535, got ${String(port)}`);
  const token = options.token ?? randomBytes(32).toString("base64url");
  if (typeof token !== "string" || token.length < MIN_TOKEN_LENGTH) {
    throw new EbindError("invalid_argument", `dashboard: token must be a string of at least ${MIN_TOKEN_LENGTH} characters`);
  }
  return { host, port, token };
}

/** The host part of the printed URL: a wildcard bind is shown as its loopback address. */
/**
 * The host to print in the dashboard's address: for a wildcard bind (`0.0.0.0`, `::`) the machine's
 * name, since the address is meant for other machines (a new user got a 127.0.0.1 link).
 */
function urlHost(host: string): string {
  const h = host.replace(/^\[|\]$/g, "");
  if (h === "0.0.0.0" || h === "::") return hostname();
  return h.includes(":") ? `[${h}]` : h;
}

/**
 * Starts the dashboard (issue 13): a page with the DAG list, each DAG's graph updated live, step
 * details, the controls, the DLQ and the streams, over a JSON API on the engine's public API.
 * @example
 * const ui = await startDashboard({ broker, workflow });
 * console.log(`dashboard: ${ui.url}`);
 * // … later
 * await ui.close();
 * @throws EbindError `invalid_argument` for a bad host, port or token; the listen error (e.g.
 *   `EADDRINUSE`) when the port is taken.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { host, port, token } = validate(options);
  const logger = resolveLogger(options.logger, "dashboard.logger");
  const assets = await loadAssets();
  const live = new LiveFeed(options.workflow, options.broker, logger);
  const ctx: ApiContext = { broker: options.broker, workflow: options.workflow, logger, dlqChanged: () => live.dlqChanged() };
  const guard: { -readonly [K in keyof Guard]: Guard[K] } = { host, port, token };
  const server = createServer((req, res) => {
    handle(req, res, { guard, ctx, live, assets }).catch((err: unknown) => {
      logger.error({ url: req.url, error: (err as Error).message }, "dashboard: request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.end();
    });
  });
  await live.start();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    await live.close();
    throw err;
  }
  guard.port = (server.address() as AddressInfo).port;
  const query = isLoopbackHost(host) ? "" : `?token=${encodeURIComponent(token)}`;
  const url = `http://${urlHost(host)}:${guard.port}/${query}#token=${encodeURIComponent(token)}`;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    })());
  return { url, token, port: guard.port, close, [Symbol.asyncDispose]: close };
}

interface Deps {
  readonly guard: Guard;
  readonly ctx: ApiContext;
  readonly live: LiveFeed;
  readonly assets: Assets;
}

async function handle(req: IncomingMessage, res: ServerResponse, { guard, ctx, live, assets }: Deps): Promise<void> {
  const url = new URL(req.url ?? "/", "http://dashboard.invalid");
  const matched = url.pathname.startsWith("/api/") ? matchRoute(ROUTES, url.pathname) : undefined;
  const refusal = checkRequest(req, url, guard, matched?.route.mutating ?? false);
  if (refusal) return sendJson(res, refusal.status, { error: refusal.message }, refusal.status === 405 ? { Allow: matched?.route.mutating ? "POST" : "GET" } : {});

  if (url.pathname === "/api/events") return live.attach(res);
  if (matched) {
    const { route, params } = matched;
    try {
      const body = req.method === "POST" ? await readJsonBody(req) : undefined;
      const out = await route.handle(ctx, { params, query: url.searchParams, body });
      return sendJson(res, out.status ?? 200, out.body);
    } catch (err) {
      const status = statusOf(err);
      if (status >= 500) ctx.logger.error({ path: url.pathname, error: (err as Error).message }, "dashboard: API error");
      return sendJson(res, status, { error: (err as Error).message, code: (err as { code?: unknown }).code });
    }
  }
  if (url.pathname.startsWith("/api/")) return sendJson(res, 404, { error: `no such API route: ${url.pathname}` });
  const asset = url.pathname === "/" || url.pathname === "/index.html" ? assets.page(isLoopbackHost(guard.host) ? "" : `?token=${encodeURIComponent(guard.token)}`) : assets.files.get(url.pathname);
  if (!asset) return sendJson(res, 404, { error: "not found" });
  res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": asset.type, "Content-Length": asset.body.length });
  res.end(asset.body);
}
