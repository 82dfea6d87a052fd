#!/usr/bin/env node
/**
 * The `ebctl` bin: runs {@link runCli} on the process's arguments, streams and environment, with the
 * dashboard's `ui` command added; SIGINT and SIGTERM end `… watch` commands and `ui`.
 * @module
 */
import { runCli } from "../cli/index.js";
import { registerUiCommand } from "../ui/index.js";

const controller = new AbortController();
// The first SIGINT/SIGTERM ends `… watch` and `ui` cleanly; a command still running a few seconds
// later (or hit by a second signal) is ended at once, with the signal's conventional status.
const stop = (signal: NodeJS.Signals): void => {
  const status = signal === "SIGINT" ? 130 : 143;
  if (controller.signal.aborted) process.exit(status);
  controller.abort();
  setTimeout(() => process.exit(status), 3000).unref();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
// A reader that went away (`ebctl dag ls | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: process.stdin.isTTY === true,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  env: process.env,
  signal: controller.signal,
}, registerUiCommand);
process.exitCode = code;
// Exit once the output is written: the client can leave a socket open after a failed connect
// (a listener that never speaks NATS), which would keep the process alive for good.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
