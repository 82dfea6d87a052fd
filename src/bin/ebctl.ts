#!/usr/bin/env node
/**
 * The `ebctl` bin: runs {@link runCli} on the process's arguments, streams and environment, with the
 * dashboard's `ui` command added; SIGINT and SIGTERM end `… watch` commands and `ui`.
 * @module
 */
import { runCli } from "../cli/index.js";
import { registerUiCommand } from "../ui/index.js";

const controller = new AbortController();
const stop = (): void => controller.abort();
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

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
// Leave nothing running: the connection is closed; stdin may still hold the loop open.
process.stdin.unref?.();
