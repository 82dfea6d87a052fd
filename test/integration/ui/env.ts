/**
 * Wiring for the dashboard tests: one nats-server per file (random loopback port, temp store), a
 * broker, workflow, worker and scheduler on it, and a dashboard; plus a raw HTTP client that can
 * set any header (Host, Origin) — `fetch` would refuse some.
 * @module
 */
import { request } from "node:http";
import { afterAll, beforeAll } from "vitest";
import { ensureStreams, silentLogger } from "../../../src/broker/index.js";
import { connectNats, type NatsBroker } from "../../../src/nats/index.js";
import { Registry, TaskError, defineHandler } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { alwaysLeader, Workflow, type Scheduler } from "../../../src/workflow/index.js";
import { startDashboard, type Dashboard, type DashboardOptions } from "../../../src/ui/index.js";
import { useNatsNode } from "../../support/nats.js";

export const add = defineHandler("ui.add", async (_ctx, a: number, b: number) => a + b);
export const double = defineHandler("ui.double", async (_ctx, n: number) => n * 2);
export const echo = defineHandler("ui.echo", async (_ctx, v: unknown) => v);
/** Fails (not retryable) while `flaky.failing` is true, then returns its argument. */
export const flaky = { failing: true };
export const sometimes = defineHandler("ui.sometimes", async (_ctx, v: string) => {
  if (flaky.failing) throw new TaskError("boom", `failing ${v}`, { retryable: false });
  return `ok:${v}`;
});

export interface UiEnv {
  broker: NatsBroker;
  workflow: Workflow;
  dashboard: Dashboard;
  natsUrl: string;
  /** Starts another dashboard on the same workflow (closed after the file). */
  another(options: Partial<DashboardOptions>): Promise<Dashboard>;
}

/** One env per file, built in `beforeAll`. */
export function useUiEnv(): () => UiEnv {
  const node = useNatsNode();
  let env: UiEnv | undefined;
  const closers: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    const broker = await connectNats({ servers: node().url });
    closers.push(() => broker.close());
    await ensureStreams(broker);
    const workflow = await Workflow.create(broker, { logger: silentLogger });
    closers.push(async () => workflow.close());
    const registry = new Registry();
    for (const h of [add, double, echo, sometimes]) registry.register(h);
    const worker = await Worker.start(broker, registry, { logger: silentLogger, pullExpiresMs: 1000, stepHook: workflow.stepHook, middleware: [workflow.middleware] });
    closers.push(() => worker.close());
    const scheduler: Scheduler = await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });
    closers.push(() => scheduler.stop());
    const dashboard = await startDashboard({ broker, workflow, logger: silentLogger });
    closers.push(() => dashboard.close());
    env = {
      broker,
      workflow,
      dashboard,
      natsUrl: node().url,
      another: async (options) => {
        const d = await startDashboard({ broker, workflow, logger: silentLogger, ...options });
        closers.push(() => d.close());
        return d;
      },
    };
  });
  afterAll(async () => {
    while (closers.length > 0) await closers.pop()!().catch(() => undefined);
  });
  return () => {
    if (!env) throw new Error("useUiEnv: not ready");
    return env;
  };
}

/** A raw HTTP answer. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/**
 * One HTTP request to `port` on 127.0.0.1 with exactly these headers (Host defaults to
 * `127.0.0.1:<port>`). A body object is sent as JSON.
 */
export function http(port: number, method: string, path: string, options: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const body = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers: { Host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Headers of a legitimate control request. */
export function control(token: string): Record<string, string> {
  return { "X-Ebind-Token": token, "Content-Type": "application/json" };
}
