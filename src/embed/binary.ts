/**
 * Locating the `nats-server` executable.
 *
 * Reference: ebind-reference.md §1.6 (package `embed`); DESIGN.md §5 (found on `PATH`, or
 * `NATS_SERVER_BIN`).
 * @module
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { EbindError } from "../task/errors.js";

/** The environment variable naming an explicit `nats-server` executable. */
export const NATS_SERVER_BIN_ENV = "NATS_SERVER_BIN";

/** Whether `file` is a regular file the current user may execute. */
export function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the `nats-server` executable.
 *
 * Looks at `env.NATS_SERVER_BIN` first (used only if it names an executable file; a relative path is
 * resolved against the current directory), then searches each directory of `env.PATH` for
 * `nats-server`.
 *
 * @param env the environment to read; defaults to `process.env` (tests pass their own).
 * @returns the absolute path of the executable, or `undefined` when there is none. Never throws.
 */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env[NATS_SERVER_BIN_ENV];
  if (explicit !== undefined && explicit !== "") {
    const file = isAbsolute(explicit) ? explicit : resolve(explicit);
    if (isExecutableFile(file)) return file;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const file = resolve(join(dir, "nats-server"));
    if (isExecutableFile(file)) return file;
  }
  return undefined;
}

/**
 * The error thrown when no usable `nats-server` exists: code `not_found`, with a message that says
 * where it looked, names `NATS_SERVER_BIN` and says how to install the server.
 *
 * @param where what was looked at, e.g. `"on PATH"` or `"at /opt/nats-server"`.
 */
export function natsServerNotFound(where = "on PATH"): EbindError {
  return new EbindError(
    "not_found",
    `embed: nats-server was not found ${where}. Set ${NATS_SERVER_BIN_ENV} to the path of a nats-server ` +
      `executable or put nats-server on PATH. To install it: \`apt-get install nats-server\` on ` +
      `Debian/Ubuntu, or download a release binary from the NATS project ` +
      `(https://github.com/nats-io/nats-server/releases).`,
  );
}

/**
 * Like {@link findNatsServer} but throws when nothing is found.
 *
 * @param env the environment to read; defaults to `process.env`.
 * @returns the absolute path of the executable.
 * @throws EbindError `not_found` (see {@link natsServerNotFound}).
 */
export function requireNatsServer(env: NodeJS.ProcessEnv = process.env): string {
  const found = findNatsServer(env);
  if (found === undefined) {
    const explicit = env[NATS_SERVER_BIN_ENV];
    throw natsServerNotFound(
      explicit !== undefined && explicit !== ""
        ? `at ${NATS_SERVER_BIN_ENV}=${explicit} (not an executable file) nor on PATH`
        : "on PATH",
    );
  }
  return found;
}
