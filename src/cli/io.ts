/**
 * What ebctl runs against: its streams, whether they are terminals, its environment and the signal
 * that stops long-running commands. The bin gives the process's; tests give their own.
 * @module
 */
import type { Readable, Writable } from "node:stream";

/** The process ebctl runs in, injected so the whole CLI runs in-process (tests, the dashboard). */
export interface CliIo {
  /** Answers to confirmation prompts are read from here. */
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Whether stdin is a terminal: without `--yes`, destructive commands prompt only then (reference §4.1). */
  readonly isTTY: boolean;
  /** The environment (`NATS_URL`, `EBIND_NATS_URL`, `HOME`, `XDG_CONFIG_HOME`, …). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal: `dag watch <id>` then draws a live tree. @default false */
  readonly stdoutIsTTY?: boolean | undefined;
  /** Whether stderr is a terminal: long listings and `dlq requeue --all` then show progress. @default false */
  readonly stderrIsTTY?: boolean | undefined;
  /** Ends `… watch` commands (the bin aborts it on SIGINT/SIGTERM). Without it they run until the process ends. */
  readonly signal?: AbortSignal | undefined;
}
