/**
 * 05 — middleware: wrap every dispatch with your own code, next to the built-in `log`.
 *
 *   npx tsx examples/05-middleware.ts
 *
 * A custom `timing()` middleware logs `[timing] main.SlowProcess: 50.4ms (err=none)`; the built-in
 * `log(logger)` logs `task.start` and `task.done` with the task id, name, attempt and duration.
 * `SlowProcess("widgets")` takes about 50 ms and returns `done: widgets`.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { LogFields, LogFn, Logger } from "../src/broker/index.js";
import { Client } from "../src/client/index.js";
import { openDevBackend } from "../src/dev/backend.js";
import { defineHandler, Registry, toTaskError } from "../src/task/index.js";
import { log, Worker, type Middleware } from "../src/worker/index.js";
import { recorder, runIfMain } from "./run-main.js";

/** The handler: honours its signal, so a deadline or shutdown interrupts the wait. */
export const slowProcess = defineHandler("main.SlowProcess", async (ctx, item: string) => {
  await sleep(50, undefined, { signal: ctx.signal });
  return `done: ${item}`;
});

/**
 * A middleware: receives the next handler in the chain and returns a handler that wraps it. This
 * one measures each dispatch and reports it, whether it succeeded or threw.
 */
export function timing(report: (line: string) => void): Middleware {
  return (next) => async (ctx) => {
    const started = performance.now();
    const took = (): string => `${(performance.now() - started).toFixed(1)}ms`;
    try {
      const result = await next(ctx);
      report(`[timing] ${ctx.task.name}: ${took()} (err=none)`);
      return result;
    } catch (err) {
      report(`[timing] ${ctx.task.name}: ${took()} (err=${toTaskError(err).message})`);
      throw err;
    }
  };
}

/**
 * A {@link Logger} writing `LEVEL message key=value…` lines to `write`. The engine calls a logger as
 * pino is called — `(fields, message)` or `(message)` — so a pino logger could stand here as is.
 */
function lineLogger(write: (line: string) => void, bindings: LogFields = {}): Logger {
  const at =
    (level: string): LogFn =>
    (fieldsOrMessage: object | string, message?: string): void => {
      const fields = typeof fieldsOrMessage === "string" ? bindings : { ...bindings, ...fieldsOrMessage };
      const pairs = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
      write([level, typeof fieldsOrMessage === "string" ? fieldsOrMessage : (message ?? ""), ...pairs].join(" "));
    };
  return { debug: at("DEBUG"), info: at("INFO"), warn: at("WARN"), error: at("ERROR"), child: (more) => lineLogger(write, { ...bindings, ...more }) };
}

/** Runs the example; every line goes to `out` and is returned. */
export async function main(out: (line: string) => void = console.log): Promise<string[]> {
  const { lines, say } = recorder(out);

  const backend = await openDevBackend({ report: say });
  const registry = new Registry();
  registry.register(slowProcess);
  // First = outermost: log sees the whole dispatch, timing sees the handler.
  const worker = await Worker.start(backend.broker, registry, { middleware: [log(lineLogger(say)), timing(say)] });
  const client = await Client.create(backend.broker);
  try {
    const future = await client.enqueue(slowProcess, "widgets");
    say(`result: ${await future.result({ timeoutMs: 10_000 })}`);
  } finally {
    await client.close();
    await worker.close();
    await backend.close();
  }
  return lines;
}

runIfMain(import.meta.url, () => main());
