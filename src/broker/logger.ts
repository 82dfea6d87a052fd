/**
 * The logger interface the engine writes to: pino's shape — four level methods taking
 * `(fields, message)` or `(message)`, and `child(bindings)` — so a pino logger is passed as is
 * (`logger: pino()`); {@link consoleLogger} and {@link silentLogger} are built in. Every line about
 * a task carries {@link taskFields}: `task_id`, `task_name`, `attempt`, and `dag_id`/`step_id` for a
 * workflow step (the keys of ebind for Go's slog lines, reference §1.3 `Log`).
 * @module
 */
import { EbindError } from "../task/errors.js";

/** Structured fields of a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * One level method, as pino's `LogFn` is called: `(fields, message)` writes the message with the
 * fields (pino merges them into the JSON line), `(message)` a bare message. The engine always passes
 * a plain object of snake_case fields first (values: strings, numbers, booleans; errors as their
 * message under `error`). Pino's extra printf-style arguments are never used.
 */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/**
 * Where ebind writes what it does. Structurally pino's logger (pino 7 to 10): any pino logger, or a
 * child of one, is a `Logger` as is. Another library fits with a small adapter: four level methods
 * taking `(fields, message)` and a `child` that returns a logger adding `bindings` to every line.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger writing where this one does, with `bindings` added to each of its lines. */
  child(bindings: Record<string, unknown>): Logger;
}

/** The levels {@link consoleLogger} knows, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A logger that writes one line per event to stderr: `<time> <LEVEL> <message> key=value…`, the
 * child bindings first, then the line's fields (pino's order); fields whose value is `undefined` are
 * left out, as pino's JSON leaves them out. An `Error` passed as the fields object is written as
 * pino writes it: its message is the line's message when none is given, and it goes under `err`.
 * @param minLevel lines below this level are dropped. @default "info"
 * @throws EbindError `invalid_argument` when `minLevel` is not one of debug, info, warn, error.
 */
export function consoleLogger(minLevel: LogLevel = "info"): Logger {
  if (!Object.hasOwn(order, minLevel)) {
    throw new EbindError("invalid_argument", `consoleLogger: minLevel must be one of debug, info, warn, error (got ${JSON.stringify(minLevel)})`);
  }
  return lineLogger(order[minLevel], "", (line) => process.stderr.write(line));
}

/** A console logger with `prefix` (the bindings, already formatted) before each line's fields. */
function lineLogger(min: number, prefix: string, write: (line: string) => void): Logger {
  const at =
    (level: LogLevel): LogFn =>
    (objOrMsg: object | string, msg?: string): void => {
      if (order[level] < min) return;
      write(formatLine(level, prefix, objOrMsg, msg));
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (bindings) => lineLogger(min, prefix + formatFields(bindings), write),
  };
}

/** `<time> <LEVEL> <message>` then `prefix` and ` key=value` per field, and a newline. */
function formatLine(level: LogLevel, prefix: string, objOrMsg: object | string | undefined, msg?: string): string {
  let message: string;
  let fields = "";
  if (typeof objOrMsg === "string") message = objOrMsg;
  else if (objOrMsg instanceof Error) {
    message = msg ?? objOrMsg.message;
    fields = formatFields({ err: objOrMsg.message });
  } else {
    message = msg ?? "";
    if (objOrMsg !== null && typeof objOrMsg === "object") fields = formatFields(objOrMsg as Record<string, unknown>);
  }
  return `${new Date().toISOString()} ${level.toUpperCase()} ${message}${prefix}${fields}\n`;
}

/** ` key=value` for each field whose value is defined. */
function formatFields(fields: Readonly<Record<string, unknown>>): string {
  let out = "";
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out += ` ${key}=${formatValue(value)}`;
  return out;
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) || value === "" ? JSON.stringify(value) : value;
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const drop: LogFn = () => {};

/** A logger that drops everything; its `child` is itself (nothing is allocated). */
export const silentLogger: Logger = { debug: drop, info: drop, warn: drop, error: drop, child: () => silentLogger };

/** The parts of a task its log lines name (a `Task` has them all). */
export interface TaskLogSubject {
  readonly id: string;
  readonly name: string;
  readonly attempt: number;
  readonly dagId?: string | undefined;
  readonly stepId?: string | undefined;
}

/**
 * The fields every log line about a task carries, in this order: `task_id`, `task_name` (the
 * handler), `attempt` (the true attempt the worker counted; 0 where none was counted yet, e.g. on the
 * producer's side), and `dag_id` and `step_id` when the task is a workflow step — then `extra`'s
 * fields. The keys are those of ebind for Go's slog lines (reference §1.3 `Log`) but for the
 * handler's name, which Go calls `name`: pino writes its own `name` option under that key, and a
 * line with it twice loses one. Call it only when a line is written: it allocates one object.
 */
export function taskFields(task: TaskLogSubject, extra?: LogFields): Record<string, unknown> {
  const fields: Record<string, unknown> = { task_id: task.id, task_name: task.name, attempt: task.attempt };
  if (task.dagId !== undefined) fields.dag_id = task.dagId;
  if (task.stepId !== undefined) fields.step_id = task.stepId;
  return extra === undefined ? fields : Object.assign(fields, extra);
}

const LEVEL_METHODS = ["debug", "info", "warn", "error"] as const;

/**
 * The `logger` option of a component, checked once where it is given: undefined becomes
 * `consoleLogger("warn")`; anything else must have the four level methods (and `child`, when
 * present, must be a function) — a logger missing one would otherwise fail only at the first line
 * written there, perhaps inside a reconnect, far from the mistake.
 * @param logger the option as given.
 * @param path the option's name in messages, e.g. `"worker.logger"`.
 * @throws EbindError `invalid_argument` naming the option and what it lacks.
 */
export function resolveLogger(logger: Logger | undefined, path: string): Logger {
  if (logger === undefined) return consoleLogger("warn");
  if (typeof logger !== "object" || logger === null) {
    throw new EbindError("invalid_argument", `${path} must be a logger (pino's shape: debug, info, warn, error, child), got ${logger === null ? "null" : typeof logger}`);
  }
  const fields = logger as unknown as Readonly<Record<string, unknown>>;
  const missing = LEVEL_METHODS.filter((level) => typeof fields[level] !== "function");
  if (missing.length > 0) {
    throw new EbindError("invalid_argument", `${path} must be a logger of pino's shape: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not a function`);
  }
  if (fields.child !== undefined && typeof fields.child !== "function") {
    throw new EbindError("invalid_argument", `${path}.child must be a function, got ${typeof fields.child}`);
  }
  return logger;
}
