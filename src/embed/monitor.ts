/**
 * Talking to a node's HTTP monitoring endpoint (`/healthz`, `/jsz`) and polling helpers.
 *
 * Verified against nats-server 2.9.10:
 * - `GET /healthz?js-enabled-only=true` → `{"status":"ok"}` as soon as JetStream is enabled, even in a
 *   cluster with no meta leader yet.
 * - `GET /healthz` → `{"status":"ok"}`, or `{"status":"unavailable","error":"JetStream has not
 *   established contact with a meta leader"}` (HTTP 503) while the node is not current.
 * - `GET /jsz` → `{ ..., "meta_cluster": { "name", "leader"?, "peer", "replicas"?: [{ "name",
 *   "current", "active", "peer" }], "cluster_size" } }`. `leader` is absent until elected;
 *   `replicas` (the other peers) appears only on the leader; `cluster_size` is the configured size and
 *   is present before any peer is seen, so it proves nothing on its own.
 *
 * Reference: ebind-reference.md §3.28.
 * @module
 */
import { request } from "node:http";

/** Result of a monitoring GET: the HTTP status and the parsed JSON body (`undefined` if not JSON). */
export interface MonitorResponse {
  readonly status: number;
  readonly body: unknown;
}

/**
 * GETs `url` and parses the JSON body.
 *
 * @param url full URL, e.g. `http://127.0.0.1:8222/jsz`.
 * @param timeoutMs request timeout in ms; default 1000.
 * @throws the socket error (e.g. `ECONNREFUSED`) or a timeout `Error`.
 */
export function getJson(url: string, timeoutMs = 1000): Promise<MonitorResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Health of a node as `/healthz` reports it.
 *
 * @param monitorUrl e.g. `http://127.0.0.1:8222`.
 * @param jsEnabledOnly `true` → only "is JetStream enabled" (`?js-enabled-only=true`); `false` → the full
 *   check (meta leader contact, current with the cluster).
 * @returns `{ ok, detail }` where `detail` is the server's `error` text or the transport error. Never throws.
 */
export async function health(monitorUrl: string, jsEnabledOnly: boolean): Promise<{ ok: boolean; detail: string }> {
  try {
    const res = await getJson(`${monitorUrl}/healthz${jsEnabledOnly ? "?js-enabled-only=true" : ""}`);
    const body = res.body as { status?: unknown; error?: unknown } | undefined;
    if (res.status === 200 && body?.status === "ok") return { ok: true, detail: "ok" };
    return { ok: false, detail: typeof body?.error === "string" ? body.error : `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

/** The `meta_cluster` part of `/jsz`, as far as readiness needs it. */
export interface MetaCluster {
  readonly leader?: string;
  readonly cluster_size?: number;
  readonly replicas?: readonly { readonly name: string; readonly current: boolean }[];
}

/** `server_name` → `/jsz` `meta_cluster` of one node; `undefined` if unreachable or not clustered. */
export async function metaCluster(monitorUrl: string): Promise<MetaCluster | undefined> {
  try {
    const res = await getJson(`${monitorUrl}/jsz`);
    const body = res.body as { meta_cluster?: MetaCluster } | undefined;
    return res.status === 200 ? body?.meta_cluster : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
