/**
 * The HTTP side of observability: a `/metrics` handler to mount in your own server, probe handlers,
 * and {@link serveObservability}, a small server of its own with `/metrics`, `/healthz` and
 * `/readyz`. No dependency beyond `node:http`: the metrics come from any source with `metrics()` and
 * `contentType` (a prom-client Registry, or `prometheusMetrics()` of `ebind/prometheus`).
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { EbindError } from "../task/index.js";
import { liveness, readiness, type HealthSource, type ProbeAnswer } from "./probes.js";
import { shown } from "./shown.js";

/** What serves the metrics' exposition text: a prom-client `Registry`, or what `prometheusMetrics()` returns. */
export interface MetricsSource {
  /** The exposition text. */
  metrics(): Promise<string>;
  /** Its content type (`text/plain; version=0.0.4; charset=utf-8` for Prometheus' text format). */
  readonly contentType: string;
}

/** A node `http` request handler (also an Express or Connect handler: it always answers). */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A handler answering `GET`/`HEAD` with the source's exposition text (200), any other method with
 * 405; 500 with the error's message when collecting fails. Mount it at the path you scrape.
 * @example
 * http.createServer((req, res) => (req.url === "/metrics" ? onMetrics(req, res) : app(req, res)));
 * @throws EbindError `invalid_argument` when `source` has no `metrics()` function.
 */
export function metricsHandler(source: MetricsSource): RequestHandler {
  if (typeof source !== "object" || source === null || typeof (source as Partial<MetricsSource>).metrics !== "function") {
    throw new EbindError("invalid_argument", `metricsHandler: source must have a metrics() function (a prom-client Registry, or prometheusMetrics()), got ${shown(source)}`);
  }
  return (req, res) => {
    if (!allowMethod(req, res)) return;
    source.metrics().then(
      (text) => {
        res.writeHead(200, { "Content-Type": source.contentType, "Cache-Control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (err: unknown) => {
        res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
        res.end(`collecting metrics failed: ${(err as Error)?.message ?? String(err)}\n`);
      },
    );
  };
}

/** A handler answering the worker's liveness (see {@link liveness}): 200 or 503 with a JSON body. @throws EbindError `invalid_argument` when `worker` has no `health()`. */
export function livenessHandler(worker: HealthSource): RequestHandler {
  checkWorker(worker, "livenessHandler");
  return (req, res) => allowMethod(req, res) && sendProbe(req, res, liveness(worker));
}

/** A handler answering the worker's readiness (see {@link readiness}): 200 or 503 with a JSON body. @throws EbindError `invalid_argument` when `worker` has no `health()`. */
export function readinessHandler(worker: HealthSource): RequestHandler {
  checkWorker(worker, "readinessHandler");
  return (req, res) => allowMethod(req, res) && sendProbe(req, res, readiness(worker));
}

/** Options of {@link serveObservability}. */
export interface ObservabilityServerOptions {
  /** Port to listen on, 0–65535; 0 picks a free one (read it from `url`). @default 0 */
  readonly port?: number | undefined;
  /** Address to listen on. The endpoints have no authentication: keep it on loopback or a private network. @default "127.0.0.1" */
  readonly host?: string | undefined;
  /** Served at `/metrics` when given (a prom-client Registry, or `prometheusMetrics()`). */
  readonly metrics?: MetricsSource | undefined;
  /** Its health is served at `/healthz` (liveness) and `/readyz` (readiness) when given. */
  readonly worker?: HealthSource | undefined;
}

/** A running {@link serveObservability} server. */
export interface ObservabilityServer {
  /** Base URL, e.g. `http://127.0.0.1:9464` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Stops listening and ends open connections; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts an HTTP server with `/metrics` (when `metrics` is given), `/healthz` and `/readyz` (when
 * `worker` is given; see {@link liveness} and {@link readiness}). Other paths answer 404.
 * @example
 * const obs = await serveObservability({ port: 9464, metrics: prometheusMetrics(), worker });
 * // Kubernetes: livenessProbe httpGet /healthz, readinessProbe httpGet /readyz on port 9464
 * await obs.close();
 * @throws EbindError `invalid_argument` for a bad port, host, metrics source or worker, or when
 *   neither `metrics` nor `worker` is given; the listen error (e.g. `EADDRINUSE`) when the port is taken.
 */
export async function serveObservability(options: ObservabilityServerOptions): Promise<ObservabilityServer> {
  if (typeof options !== "object" || options === null) throw new EbindError("invalid_argument", "serveObservability: options must be an object");
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new EbindError("invalid_argument", `serveObservability: port must be an integer in 0..65535, got ${shown(port)}`);
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "") throw new EbindError("invalid_argument", `serveObservability: host must be a non-empty string, got ${shown(host)}`);
  if (options.metrics === undefined && options.worker === undefined) throw new EbindError("invalid_argument", "serveObservability: give metrics, a worker, or both");
  const routes = new Map<string, RequestHandler>();
  if (options.metrics !== undefined) routes.set("/metrics", metricsHandler(options.metrics));
  if (options.worker !== undefined) {
    routes.set("/healthz", livenessHandler(options.worker));
    routes.set("/readyz", readinessHandler(options.worker));
  }
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const route = routes.get(path);
    if (route !== undefined) return route(req, res);
    res.writeHead(404, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ error: `not found: ${path}`, paths: [...routes.keys()] }) + "\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  return { url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`, port: bound, close, [Symbol.asyncDispose]: close };
}

/** Lets GET and HEAD through; answers 405 to anything else. */
function allowMethod(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === "GET" || req.method === "HEAD") return true;
  res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" });
  res.end("method not allowed\n");
  return false;
}

function sendProbe(req: IncomingMessage, res: ServerResponse, answer: ProbeAnswer): boolean {
  res.writeHead(answer.status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(req.method === "HEAD" ? undefined : JSON.stringify(answer.body) + "\n");
  return true;
}

function checkWorker(worker: HealthSource, where: string): void {
  if (typeof worker !== "object" || worker === null || typeof (worker as Partial<HealthSource>).health !== "function") {
    throw new EbindError("invalid_argument", `${where}: worker must be a Worker (with health()), got ${shown(worker)}`);
  }
}
