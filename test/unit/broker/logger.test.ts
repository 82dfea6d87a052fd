/**
 * The built-in loggers (issue 17): consoleLogger keeps its `<time> <LEVEL> <message> key=value…`
 * line with child bindings before the line's fields; silentLogger's child is itself; taskFields
 * gives every line about a task the same keys in the same order.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { consoleLogger, silentLogger, taskFields, type LogLevel } from "../../../src/broker/index.js";
import { EbindError } from "../../../src/task/index.js";

/** Lines written to stderr while `run` runs, without their leading timestamp. */
function stderrLines(run: () => void): string[] {
  const written: string[] = [];
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return written.map((line) => {
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [A-Z]+ .*\n$/);
    return line.slice(line.indexOf(" ") + 1, -1);
  });
}

describe("consoleLogger", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes the message then the fields as key=value, quoting what needs it and leaving out undefined", () => {
    const lines = stderrLines(() => {
      const logger = consoleLogger("debug");
      logger.warn({ task_id: "t-1", attempt: 2, error: "card declined", dag_id: undefined, ok: true }, "worker: it failed");
      logger.info("just a message");
      logger.debug({ only: "fields" });
    });
    expect(lines).toEqual(['WARN worker: it failed task_id=t-1 attempt=2 error="card declined" ok=true', "INFO just a message", "DEBUG  only=fields"]);
  });

  it("writes a child's bindings, nested children's in order, before the line's fields", () => {
    const lines = stderrLines(() => {
      const root = consoleLogger();
      const child = root.child({ worker_id: "w1" });
      child.child({ task_id: "t-1", task_name: "main.Greet" }).error({ attempt: 3 }, "task.error");
      child.info("started");
      root.info({ plain: 1 }, "root line");
    });
    expect(lines).toEqual(["ERROR task.error worker_id=w1 task_id=t-1 task_name=main.Greet attempt=3", "INFO started worker_id=w1", "INFO root line plain=1"]);
  });

  it("drops lines below its level, in its children too", () => {
    const lines = stderrLines(() => {
      const logger = consoleLogger("warn");
      logger.info("dropped");
      logger.child({ a: 1 }).debug("dropped too");
      logger.child({ a: 1 }).warn("kept");
    });
    expect(lines).toEqual(["WARN kept a=1"]);
  });

  it("writes an Error passed as the fields object as pino does: its message, under err", () => {
    const lines = stderrLines(() => {
      consoleLogger().error(new Error("disk full"));
      consoleLogger().error(new Error("disk full"), "write failed");
    });
    expect(lines).toEqual(['ERROR disk full err="disk full"', 'ERROR write failed err="disk full"']);
  });

  it("refuses a level it does not know", () => {
    const bad = (): unknown => consoleLogger("verbose" as LogLevel);
    expect(bad).toThrow(EbindError);
    expect(bad).toThrow(/minLevel must be one of debug, info, warn, error \(got "verbose"\)/);
  });
});

describe("silentLogger", () => {
  it("is its own child and writes nothing", () => {
    expect(silentLogger.child({ a: 1 })).toBe(silentLogger);
    const lines = stderrLines(() => silentLogger.error({ a: 1 }, "nothing"));
    expect(lines).toEqual([]);
  });
});

describe("taskFields", () => {
  it("gives task_id, name, attempt, then the extra fields", () => {
    const fields = taskFields({ id: "t-1", name: "main.Greet", attempt: 2 }, { error: "boom" });
    expect(Object.entries(fields)).toEqual([
      ["task_id", "t-1"],
      ["task_name", "main.Greet"],
      ["attempt", 2],
      ["error", "boom"],
    ]);
  });

  it("adds dag_id and step_id for a workflow step", () => {
    const fields = taskFields({ id: "d1:s1", name: "main.Step", attempt: 1, dagId: "d1", stepId: "s1" });
    expect(Object.keys(fields)).toEqual(["task_id", "task_name", "attempt", "dag_id", "step_id"]);
    expect(fields).toMatchObject({ dag_id: "d1", step_id: "s1" });
  });
});
