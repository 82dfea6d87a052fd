/**
 * The Go peer of the interop suites (issue 15): finds `go`, builds `interop/go` into `ebgo` once
 * per content hash, runs its subcommands, and skips (loudly) or fails the suites when Go is missing,
 * as {@link describeNats} does for nats-server.
 *
 * The build is cached under `os.tmpdir()/ebind-go-<hash>/ebgo`, the hash covering go.mod, go.sum and
 * every `.go` file of `interop/go`, so the forks of one run (and later runs) build it once; a build
 * writes to a temporary name and renames it into place, so concurrent builders cannot see half a file.
 * @module
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, it } from "vitest";
import { natsAvailable, natsRequired } from "./nats.js";

/** The Go module of the peer. */
export const GO_MODULE_DIR = fileURLToPath(new URL("../../interop/go/", import.meta.url));

/** Where `go` is looked for after `PATH`. */
const FALLBACK_GO = "/usr/local/go/bin/go";

/** The `go` executable: `GO_BIN`, then `PATH`, then `/usr/local/go/bin/go`; undefined when none exists. */
export function findGo(): string | undefined {
  if (process.env.GO_BIN) return existsSync(process.env.GO_BIN) ? process.env.GO_BIN : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && existsSync(join(dir, "go"))) return join(dir, "go");
  }
  return existsSync(FALLBACK_GO) ? FALLBACK_GO : undefined;
}

/** Whether CI demands the Go interop suites (`EBIND_REQUIRE_GO=1`). */
export function goRequired(): boolean {
  return process.env.EBIND_REQUIRE_GO === "1";
}

/** The hash of the module's sources: go.mod, go.sum and the `.go` files, in name order. */
export function goSourceHash(): string {
  const hash = createHash("sha256");
  const files = readdirSync(GO_MODULE_DIR)
    .filter((f) => f === "go.mod" || f === "go.sum" || f.endsWith(".go"))
    .sort();
  for (const f of files) {
    hash.update(f).update("\0").update(readFileSync(join(GO_MODULE_DIR, f))).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

let built: string | undefined;

/**
 * The path of the `ebgo` binary, building it when this content hash has no binary yet.
 * @throws Error when `go` is missing or the build fails (with go's output).
 */
export function ebgoPath(): string {
  if (built !== undefined) return built;
  const go = findGo();
  if (go === undefined) throw new Error("go not found (GO_BIN, PATH, /usr/local/go/bin)");
  const dir = join(tmpdir(), `ebind-go-${goSourceHash()}`);
  const bin = join(dir, "ebgo");
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const partial = join(dir, `ebgo.${process.pid}.partial`);
    execFileSync(go, ["build", "-o", partial, "."], { cwd: GO_MODULE_DIR, stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
    renameSync(partial, bin);
  }
  built = bin;
  return bin;
}

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
    const lines: GoLine[] = [];
    const listeners = new Set<() => void>();
    let buffer = "";
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        lines.push(parseLine(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
      }
      for (const l of listeners) l();
    });
    child.on("exit", () => {
      for (const l of listeners) l();
    });
    const proc: GoProcess = {
      child,
      lines,
      waitFor(match, what, timeoutMs = 20_000) {
        return new Promise((resolve, reject) => {
          const check = (): boolean => {
            const hit = lines.find(match);
            if (hit !== undefined) {
              listeners.delete(check);
              clearTimeout(timer);
              resolve(hit);
              return true;
            }
            return false;
          };
          const timer = setTimeout(() => {
            listeners.delete(check);
            reject(new Error(`ebgo ${args[0]}: no line for "${what}" within ${timeoutMs} ms; lines ${JSON.stringify(lines)}; stderr ${stderr}`));
          }, timeoutMs);
          if (!check()) listeners.add(check);
        });
      },
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
