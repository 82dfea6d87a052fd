/**
 * Type tests of the Logger interface (issue 17): a pino logger, and a child of one, is a `Logger` as
 * is and fits every `logger` option; the built-in loggers are `Logger`s; the engine's call shapes
 * `(fields, message)` and `(message)` type-check and the old `(message, fields)` does not.
 */
import pino from "pino";
import { describe, expectTypeOf, it } from "vitest";
import { consoleLogger, silentLogger, taskFields, type Logger, type LogFn } from "../../src/broker/index.js";
import type { ClientOptions } from "../../src/client/index.js";
import type { DashboardOptions } from "../../src/ui/index.js";
import type { WorkerOptions } from "../../src/worker/index.js";
import type { KvLeaderElectorOptions, WorkflowOptions } from "../../src/workflow/index.js";
import type { HeartbeatOptions } from "../../src/broker/index.js";

describe("Logger", () => {
  it("takes a pino logger as is", () => {
    expectTypeOf(pino()).toExtend<Logger>();
    expectTypeOf(pino({ level: "debug", base: { service: "orders" } })).toExtend<Logger>();
    expectTypeOf(pino().child({ worker: "w1" })).toExtend<Logger>();
    expectTypeOf(pino().info).toExtend<LogFn>();
  });

  it("fits every logger option with a pino logger", () => {
    const logger = pino();
    expectTypeOf({ logger }).toExtend<WorkerOptions>();
    expectTypeOf({ logger }).toExtend<ClientOptions>();
    expectTypeOf({ logger }).toExtend<WorkflowOptions>();
    expectTypeOf({ logger }).toExtend<Pick<DashboardOptions, "logger">>();
    expectTypeOf({ id: "a", logger }).toExtend<KvLeaderElectorOptions>();
    expectTypeOf({ everyMs: 1000, logger }).toExtend<HeartbeatOptions>();
  });

  it("has built-ins that are Loggers, children included", () => {
    expectTypeOf(consoleLogger()).toExtend<Logger>();
    expectTypeOf(consoleLogger("debug").child({ a: 1 })).toEqualTypeOf<Logger>();
    expectTypeOf(silentLogger.child({ a: 1 })).toEqualTypeOf<Logger>();
    // @ts-expect-error not a level
    consoleLogger("verbose");
  });

  it("is called as pino is called", () => {
    const logger: Logger = consoleLogger();
    logger.warn({ task_id: "t", attempt: 1 }, "message");
    logger.info("message");
    logger.error(taskFields({ id: "t", name: "n", attempt: 1 }, { error: "boom" }), "message");
    logger.debug({ only: "fields" });
    // @ts-expect-error the old (message, fields) shape is gone
    logger.warn("message", { task_id: "t" });
    // @ts-expect-error a message is a string
    logger.info({ a: 1 }, 42);
  });
});
