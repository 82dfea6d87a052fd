/**
 * `ebind/observe` over real HTTP on loopback, with a fake worker: the routes, the probe answers and
 * bodies, methods, a handler mounted in the user's own server, and option checks.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { livenessHandler, metricsHandler, readinessHandler, serveObservability, type HealthSource } from "../../../src/observe/index.js";
import type { WorkerHealth } from "../../../src/worker/index.js";
import { scrape } from "../../support/prom-text.js";

const healthy: WorkerHealth = { live: true, ready: true, running: true, connected: true, consuming: true, outcomesStored: true, abandoned: [] };

function worker(h: Partial<WorkerHealth> = {}): HealthSource & { set(h: Partial<WorkerHealth>): void } {
  let current = { ...healthy, ...h };
  return { health: () => current, set: (next) => (current = { ...healthy, ...next }) };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

describe("serveObservability", () => {
  it("serves /metrics, /healthz and /readyz; 404 elsewhere; 405 for other methods", async () => {
    const registry = new Registry();
    new Counter({ name: "app_things_total", help: "things", registers: [registry] }).inc(3);
    const w = worker();
    const obs = await serveObservability({ metrics: registry, worker: w });
    closers.push(() => obs.close());
    expect(obs.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await scrape(`${obs.url}/metrics`)).value("app_things_total")).toBe(3);

    let res = await fetch(`${obs.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ live: true, abandoned: [] });
    res = await fetch(`${obs.url}/readyz?verbose=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, running: true, connected: true, consuming: true, outcomesStored: true });

    const abandonedAt = new Date("2026-01-02T03:04:05.000Z");
    w.set({ live: false, ready: false, consuming: false, abandoned: [{ taskId: "t-42", name: "deaf", attempt: 2, abortedBecause: "deadline", abandonedAt }] });
    res = await fetch(`${obs.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ live: false, abandoned: [{ taskId: "t-42", name: "deaf", attempt: 2, abortedBecause: "deadline", abandonedAt: "2026-01-02T03:04:05.000Z" }] });
    res = await fetch(`${obs.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, consuming: false, connected: true });

    res = await fetch(`${obs.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ paths: ["/metrics", "/healthz", "/readyz"] });
    res = await fetch(`${obs.url}/metrics`, { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    await res.text();
    res = await fetch(`${obs.url}/readyz`, { method: "HEAD" });
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("");
  });

  it("serves only what it was given", async () => {
    const obs = await serveObservability({ worker: worker() });
    closers.push(() => obs.close());
    expect((await fetch(`${obs.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${obs.url}/healthz`)).status).toBe(200);
    const metricsOnly = await serveObservability({ metrics: new Registry() });
    closers.push(() => metricsOnly.close());
    expect((await fetch(`${metricsOnly.url}/readyz`)).status).toBe(404);
  });

  it("answers 500 when collecting fails, and close() is idempotent", async () => {
    const obs = await serveObservability({ metrics: { contentType: "text/plain", metrics: () => Promise.reject(new Error("collector broke")) } });
    const res = await fetch(`${obs.url}/metrics`);
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("collector broke");
    await obs.close();
    await obs.close();
    await expect(fetch(`${obs.url}/metrics`)).rejects.toThrow();
  });

  it("refuses bad options with invalid_argument; a taken port fails with the listen error", async () => {
    await expect(serveObservability({})).rejects.toMatchObject({ code: "invalid_argument", message: expect.stringContaining("metrics, a worker") });
    await expect(serveObservability({ port: 70_000, worker: worker() })).rejects.toMatchObject({ code: "invalid_argument", message: expect.stringContaining("port") });
    await expect(serveObservability({ host: "", worker: worker() })).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(serveObservability({ worker: {} as HealthSource })).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(serveObservability({ metrics: {} as Registry })).rejects.toMatchObject({ code: "invalid_argument" });
    const first = await serveObservability({ worker: worker() });
    closers.push(() => first.close());
    await expect(serveObservability({ port: first.port, worker: worker() })).rejects.toMatchObject({ code: "EADDRINUSE" });
  });
});

describe("handlers mounted in the user's own server", () => {
  it("metricsHandler, livenessHandler and readinessHandler answer as the built-in server does", async () => {
    const registry = new Registry();
    new Counter({ name: "mounted_total", help: "h", registers: [registry] }).inc();
    const w = worker({ ready: false, running: false });
    const onMetrics = metricsHandler(registry);
    const onLive = livenessHandler(w);
    const onReady = readinessHandler(w);
    const server = createServer((req, res) => {
      if (req.url === "/internal/metrics") return onMetrics(req, res);
      if (req.url === "/live") return onLive(req, res);
      if (req.url === "/ready") return onReady(req, res);
      res.writeHead(200).end("app");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await scrape(`${base}/internal/metrics`)).value("mounted_total")).toBe(1);
    expect((await fetch(`${base}/live`)).status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, running: false });
    expect(() => metricsHandler({} as Registry)).toThrow(expect.objectContaining({ code: "invalid_argument" }));
    expect(() => readinessHandler(null as never)).toThrow(expect.objectContaining({ code: "invalid_argument" }));
  });
});
