/** A logger that keeps every line, for tests that assert what was logged. */
import type { LogFields, Logger } from "../../src/broker/index.js";

/** Each call as `[level, message, fields]`, in order; fields are the child bindings then the line's own. */
export type LoggedLine = [string, string, LogFields | undefined];

/** A {@link Logger} recording every line in `lines`, its children's lines included. */
export function recordingLogger(): Logger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  return Object.assign(recordingChild(lines, undefined), { lines });
}

function recordingChild(lines: LoggedLine[], bindings: LogFields | undefined): Logger {
  const at =
    (level: string) =>
    (objOrMsg: object | string, msg?: string): void => {
      if (typeof objOrMsg === "string") lines.push([level, objOrMsg, bindings]);
      else lines.push([level, msg ?? "", bindings ? { ...bindings, ...objOrMsg } : (objOrMsg as LogFields)]);
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (more) => recordingChild(lines, { ...bindings, ...more }),
  };
}
