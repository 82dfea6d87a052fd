/**
 * The logger of the test worker processes (test/support/workflow-worker-process.ts,
 * test/chaos/e2e/worker-main.ts): warnings and errors as stdout lines
 * `log <level> <message> <fields as JSON>`, which the parent reads; debug and info dropped.
 */
import type { Logger, LogFields, LogFn } from "../../src/broker/index.js";

/** A logger printing through `print`, with `bindings` on every line. */
export function printLogger(print: (line: string) => void, bindings: LogFields = {}): Logger {
  const at =
    (level: string): LogFn =>
    (objOrMsg: object | string, msg?: string) =>
      print(`log ${level} ${typeof objOrMsg === "string" ? objOrMsg : (msg ?? "")} ${JSON.stringify(typeof objOrMsg === "string" ? bindings : { ...bindings, ...objOrMsg })}`);
  return { debug: () => {}, info: () => {}, warn: at("warn"), error: at("error"), child: (more) => printLogger(print, { ...bindings, ...more }) };
}
