/**
 * Running ebctl in-process for tests: {@link ebctl} calls `runCli` with captured streams and an
 * environment pointing at the test's server (and at an empty HOME, so no real `nats` context leaks in).
 * @module
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { runCli } from "../../../src/cli/program.js";

/** What one run printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link ebctl}. */
export interface CliRunOptions {
  /** The server (`EBIND_NATS_URL`). */
  readonly url?: string | undefined;
  /** More environment (replaces `EBIND_NATS_URL` when it sets it). */
  readonly env?: Record<string, string | undefined> | undefined;
  /** stdin is a terminal. @default false */
  readonly isTTY?: boolean | undefined;
  readonly stdoutIsTTY?: boolean | undefined;
  /** What the user types on stdin (e.g. `"y\n"`). */
  readonly input?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Receives stdout as it is written (for watch commands). */
  readonly onStdout?: ((all: string) => void) | undefined;
}

/** An empty HOME for the runs (no `nats` contexts). */
export const EMPTY_HOME = mkdtempSync(join(tmpdir(), "ebctl-home-"));

class Capture extends Writable {
  text = "";
  constructor(private readonly onWrite?: (all: string) => void) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    this.onWrite?.(this.text);
    done();
  }
}

/** Runs `ebctl <args>` in-process. */
export async function ebctl(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  const stdin = new PassThrough();
  if (options.input !== undefined) stdin.end(options.input);
  else stdin.end();
  const stdout = new Capture(options.onStdout);
  const stderr = new Capture();
  const code = await runCli(args, {
    stdin,
    stdout,
    stderr,
    isTTY: options.isTTY ?? false,
    stdoutIsTTY: options.stdoutIsTTY ?? false,
    stderrIsTTY: false,
    env: { HOME: EMPTY_HOME, EBIND_NATS_URL: options.url, ...options.env },
    signal: options.signal,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Waits until `check` passes (polling every 20 ms), or fails with its last error after `timeoutMs`. */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
