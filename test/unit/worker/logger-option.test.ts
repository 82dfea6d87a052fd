/**
 * The `logger` option is checked where it is given (issue 17, a new user's finding): a logger
 * missing a level method used to be accepted and crash the worker at the first line written there
 * (its NATS heartbeat thread's reconnect warning, far from the mistake). Now every component that
 * takes one refuses it at once with `invalid_argument`, naming the option and what it lacks.
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ensureStreams, resolveLogger, type Broker, type Logger } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { requeueDeadLetter } from "../../../src/dlq/index.js";
import { memoryBroker } from "../../../src/memory/index.js";
import { Registry } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { Workflow } from "../../../src/workflow/index.js";

const noop = (): void => {};
/** pino's shape without `warn`, as the new user passed it. */
const withoutWarn = { debug: noop, info: noop, error: noop, child: () => withoutWarn } as unknown as Logger;

describe("the logger option", () => {
  let broker: Broker | undefined;
  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });

  it("a logger missing a level method is refused by the worker, the client, the workflow and requeue, naming what it lacks", async () => {
    broker = memoryBroker();
    await ensureStreams(broker);
    const b = broker;
    await expect(Worker.start(b, new Registry(), { logger: withoutWarn })).rejects.toThrow(/worker\.logger must be a logger of pino's shape: warn is not a function/);
    await expect(Client.create(b, { logger: withoutWarn })).rejects.toThrow(/client\.logger must be a logger of pino's shape: warn is not a function/);
    await expect(Workflow.create(b, { logger: withoutWarn })).rejects.toThrow(/workflow\.logger must be a logger of pino's shape: warn is not a function/);
    await expect(requeueDeadLetter(b, 1, { logger: withoutWarn })).rejects.toThrow(/requeue\.logger must be a logger of pino's shape: warn is not a function/);
    await expect(Worker.start(b, new Registry(), { logger: {} as Logger })).rejects.toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/debug, info, warn, error are not a function/) });
    await expect(Worker.start(b, new Registry(), { logger: "warn" as unknown as Logger })).rejects.toThrow(/worker\.logger must be a logger .*got string/);
  });

  it("pino, a pino child and the built-ins are accepted as they are; no logger means consoleLogger", () => {
    const logger = pino({ enabled: false });
    expect(resolveLogger(logger, "x.logger")).toBe(logger);
    const child = logger.child({ svc: "a" });
    expect(resolveLogger(child, "x.logger")).toBe(child);
    expect(typeof resolveLogger(undefined, "x.logger").warn).toBe("function");
    expect(() => resolveLogger({ debug: noop, info: noop, warn: noop, error: noop, child: 5 } as unknown as Logger, "x.logger")).toThrow(/x\.logger\.child must be a function, got number/);
  });
});
