/**
 * The Go peer of the interop suites (issue 15): finds `go`, builds `interop/go` into `ebgo` once
 * per content hash, runs its subcommands, and skips (loudly) or fails the suites when Go is missing,
 * as {@link describeNats} does for nats-server.
 * The build itself lives in `go-build.ts` (vitest-free, shared with bench/).
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, it } from "vitest";
import { ebgoPath, findGo, goRequired } from "./go-build.js";
import { OutputLines } from "./output-lines.js";
import { natsAvailable, natsRequired } from "./nats.js";

export { ebgoPath, findGo, GO_MODULE_DIR, goRequired, goSourceHash } from "./go-build.js";

/**
 * `describe(name, fn)` for suites that need both `go` and `nats-server`:
 * - both found → runs the suite;
 * - `go` missing and `EBIND_REQUIRE_GO=1` → one failing test saying why;
 * - `go` missing otherwise → `describe.skip`, with a stderr line naming the suite;
 * - nats-server missing → the same three cases with `EBIND_REQUIRE_NATS`.
 */
export function describeGo(name: string, fn: () => void): void {
  const missing = findGo() === undefined ? "go" : natsAvailable() ? undefined : "nats-server";
  if (missing === undefined) {
    describe(name, fn);
    return;
  }
  const required = missing === "go" ? goRequired() : natsRequired();
  if (required) {
    describe(name, () => {
      it(`requires ${missing}`, () => {
        throw new Error(
          missing === "go"
            ? "go is required (EBIND_REQUIRE_GO=1) but was not found in GO_BIN, on PATH or at /usr/local/go/bin/go; install Go 1.26"
            : "nats-server is required (EBIND_REQUIRE_NATS=1) but was not found on PATH or in NATS_SERVER_BIN",
        );
      });
    });
    return;
  }
  process.stderr.write(`!!! ${missing} not found: SKIPPING Go interop suite "${name}"\n`);
  describe.skip(name, fn);
}

/** One JSON line printed by ebgo. */
export type GoLine = Record<string, unknown> & { event: string };

/** A running ebgo process (a worker) and the lines it printed. */
export interface GoProcess {
  readonly child: ChildProcess;
  readonly lines: GoLine[];
  /** Resolves with the first line (printed before or later) for which `match` is true. */
  waitFor(match: (line: GoLine) => boolean, what: string, timeoutMs?: number): Promise<GoLine>;
  /** SIGTERM, then waits for exit. */
  stop(): Promise<void>;
}

function parseLine(text: string): GoLine {
  try {
    return JSON.parse(text) as GoLine;
  } catch {
    return { event: "non_json", text };
  }
}

/**
 * Returns a starter of long-running ebgo subcommands; every process it started is killed after
 * each test. Resolves once the process printed `{"event":"ready"}`.
 */
export function useGoProcesses(): (args: readonly string[]) => Promise<GoProcess> {
  const started: ChildProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => stopChild(c)));
  });
  return async (args) => {
    const child = spawn(ebgoPath(), args, { stdio: ["ignore", "pipe", "pipe"] });
    started.push(child);
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const out = new OutputLines(child.stdout, parseLine);
    child.on("exit", () => out.poke());
    const proc: GoProcess = {
      child,
      lines: out.lines,
      waitFor: (match, what, timeoutMs = 20_000) =>
        out.waitFor(
          match,
          timeoutMs,
          () => new Error(`ebgo ${args[0]}: no line for "${what}" within ${timeoutMs} ms; lines ${JSON.stringify(out.lines)}; stderr ${stderr}`),
        ),
      stop: () => stopChild(child),
    };
    await proc.waitFor((l) => l.event === "ready" || l.event === "error", "ready").then((l) => {
      if (l.event === "error") throw new Error(`ebgo ${args.join(" ")}: ${String(l.error)}`);
    });
    return proc;
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Runs an ebgo subcommand to completion and returns its JSON lines.
 * @throws Error with stderr when it exits non-zero.
 */
export async function runGo(args: readonly string[], timeoutMs = 30_000): Promise<GoLine[]> {
  const child = spawn(ebgoPath(), args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  const lines = out.split("\n").filter((l) => l !== "").map(parseLine);
  if (code !== 0) throw new Error(`ebgo ${args.join(" ")} exited ${String(code)}: ${err.trim()} ${out.trim()}`);
  return lines;
}
