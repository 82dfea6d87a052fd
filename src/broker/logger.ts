/**
 * The logger interface the engine writes to: structured fields, four levels. Pino, winston and
 * `console` fit it with a one-line adapter; {@link consoleLogger} and {@link silentLogger} are built in.
 * @module
 */

/** Structured fields of a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Where ebind writes what it does. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A logger that writes one line per event to stderr: `<time> <LEVEL> <message> key=value…`.
 * @param minLevel lines below this level are dropped. @default "info"
 */
export function consoleLogger(minLevel: Level = "info"): Logger {
  const write = (level: Level, message: string, fields?: LogFields): void => {
    if (order[level] < order[minLevel]) return;
    const parts = [new Date().toISOString(), level.toUpperCase(), message];
    if (fields) for (const [key, value] of Object.entries(fields)) parts.push(`${key}=${formatValue(value)}`);
    process.stderr.write(parts.join(" ") + "\n");
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
