/**
 * The dashboard's request checks (issue 13): who may read, who may change, and from where.
 *
 * - Host: the `Host` header must name the address the server is bound to (with its port), or for a
 *   loopback bind one of the loopback names — so a page on `evil.example` whose name was rebound to
 *   127.0.0.1 (DNS rebinding) gets 403. A wildcard bind (`0.0.0.0`, `::`) cannot know the names it
 *   is reached by: any host with the right port passes, and the token guards every request.
 * - Origin: when a request carries `Origin` (browsers do on POST and on cross-origin reads), it must
 *   be the dashboard's own (`http://<Host>`); `Sec-Fetch-Site: cross-site` is refused too.
 * - Token: every POST needs it in the `X-Ebind-Token` header (a page on another origin cannot set
 *   that header without a CORS preflight, which this server never answers) and a JSON Content-Type;
 *   on a non-loopback bind every request needs it, GETs in the header or in a `token` query
 *   parameter (for what a browser loads by itself: the page, its assets, the event stream).
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";

/** The header a request carries the token in. */
export const TOKEN_HEADER = "x-ebind-token";

/** Headers sent on every response (CSP without inline script, no framing, no referrer). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-store",
});

/** Whether `host` (an address or a name) is a loopback one: 127.0.0.0/8, ::1, `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

function isWildcard(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "0.0.0.0" || h === "::";
}

/** `host:port` as a Host header spells it (IPv6 in brackets), lower-cased. */
function hostPort(host: string, port: number): string {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return (isIP(h) === 6 ? `[${h}]` : h) + `:${port}`;
}

/** What a request is checked against: the bound address and the token. */
export interface Guard {
  /** The address the server listens on, as given (`127.0.0.1`, `0.0.0.0`, `::1`, a name). */
  readonly host: string;
  /** The port actually bound. */
  readonly port: number;
  readonly token: string;
}

/** A refusal: the status and a message for the JSON body. */
export interface Refusal {
  readonly status: 400 | 401 | 403 | 405 | 415;
  readonly message: string;
}

/** The `Host` values accepted for a bind, or `undefined` when any name passes (wildcard bind). */
export function allowedHosts(guard: Guard): Set<string> | undefined {
  if (isWildcard(guard.host)) return undefined;
  const names = [guard.host];
  if (isLoopbackHost(guard.host)) names.push("localhost", "127.0.0.1", "::1");
  return new Set(names.map((n) => hostPort(n, guard.port)));
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Compares a presented token with the expected one in constant time. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented, "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks a request before routing. `mutating` is true for a route that changes something (a POST
 * route, whatever method was used to reach it).
 * @returns undefined when the request may go on, else why not.
 */
export function checkRequest(req: IncomingMessage, url: URL, guard: Guard, mutating: boolean): Refusal | undefined {
  const host = headerOf(req, "host")?.toLowerCase();
  if (host === undefined) return { status: 400, message: "missing Host header" };
  const allowed = allowedHosts(guard);
  const hostOk = allowed === undefined ? host.endsWith(`:${guard.port}`) : allowed.has(host);
  if (!hostOk) return { status: 403, message: `Host ${JSON.stringify(host)} is not this dashboard's address` };

  const origin = headerOf(req, "origin");
  if (origin !== undefined && origin !== `http://${host}`) return { status: 403, message: `cross-origin request refused (Origin ${origin})` };
  if (headerOf(req, "sec-fetch-site") === "cross-site") return { status: 403, message: "cross-site request refused" };

  if (mutating) {
    if (req.method !== "POST") return { status: 405, message: "this route changes something: use POST with the token in the X-Ebind-Token header" };
    if (!tokenMatches(headerOf(req, TOKEN_HEADER), guard.token)) return { status: 401, message: "missing or wrong X-Ebind-Token header" };
    const type = headerOf(req, "content-type")?.split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") return { status: 415, message: "Content-Type must be application/json" };
    return undefined;
  }
  if (req.method !== "GET" && req.method !== "HEAD") return { status: 405, message: `method ${req.method ?? "?"} not allowed here` };
  if (!isLoopbackHost(guard.host)) {
    const presented = headerOf(req, TOKEN_HEADER) ?? url.searchParams.get("token") ?? undefined;
    if (!tokenMatches(presented, guard.token)) return { status: 401, message: "this dashboard is reachable from the network: every request needs the token" };
  }
  return undefined;
}

/** Writes a JSON response with the security headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text), ...extra });
  res.end(text);
}
