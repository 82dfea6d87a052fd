/** A logger that keeps every line, for tests that assert what was logged. */
import type { LogFields, Logger } from "../../src/broker/index.js";

/** Each call as `[level, message, fields]`, in order. */
export type LoggedLine = [string, string, LogFields | undefined];

/** A {@link Logger} recording every line in `lines`. */
export function recordingLogger(): Logger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const at = (level: string) => (m: string, f?: LogFields) => void lines.push([level, m, f]);
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
