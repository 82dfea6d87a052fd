/**
 * Runs the demo (`demo/main.ts --json DIR`) as a child process over a directory with known files and
 * checks its JSON summary, its exit code, and that it leaves no nats-server behind.
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeNats } from "../../support/nats.js";
import type { Summary } from "../../../demo/report.js";

const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEMO = join(PROJECT_ROOT, "demo", "main.ts");
/** tsx's loader, by URL, so the demo can start from any working directory (`--import tsx` resolves from the cwd). */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const RUN_TIMEOUT_MS = 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the demo with `node --import tsx`; never uses a NATS server it did not start unless `env` says so. */
function runDemo(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (options.env?.NATS_URL === undefined) delete env.NATS_URL;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX, DEMO, ...args], { cwd: options.cwd ?? PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`demo did not exit within ${RUN_TIMEOUT_MS} ms\nstderr:\n${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The embedded server the demo reported on stderr. */
function reportedServer(stderr: string): { port: number; storeDir: string } {
  const m = /embedded nats-server at nats:\/\/127\.0\.0\.1:(\d+) \(store (\S+)\)/.exec(stderr);
  if (!m) throw new Error(`the demo did not report an embedded server; stderr:\n${stderr}`);
  return { port: Number(m[1]), storeDir: m[2]! };
}

/** Pids whose command line mentions `text` (Linux /proc; empty elsewhere). */
function processesMentioning(text: string): number[] {
  if (!existsSync("/proc")) return [];
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(text)) pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

interface Expected {
  bytes: number;
  lines: number;
  sha256: string;
}

function expected(content: Buffer): Expected {
  let newlines = 0;
  for (const byte of content) if (byte === 0x0a) newlines++;
  const lines = content.length === 0 ? 0 : newlines + (content[content.length - 1] === 0x0a ? 0 : 1);
  return { bytes: content.length, lines, sha256: createHash("sha256").update(content).digest("hex") };
}

describeNats("demo", () => {
  let dir: string;
  const files = new Map<string, Expected>();
  let dangling: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ebind-demo-test-"));
    const contents: Array<[string, Buffer]> = [
      ["alpha.txt", Buffer.from("alpha\nbeta\ngamma\n")], // 3 lines
      ["no-final-newline.md", Buffer.from("one\ntwo")], // 2 lines
      ["empty", Buffer.alloc(0)], // 0 lines
      [join("nested", "deeper", "inner.txt"), Buffer.from("héllo wörld\n")], // 1 line, multi-byte UTF-8
      // 3 MiB spanning many read chunks: 100-byte lines, the last one cut short.
      ["big.bin", bigContent(3 * 1024 * 1024)],
    ];
    for (const [rel, content] of contents) {
      const path = join(dir, rel);
      await mkdir(join(path, ".."), { recursive: true });
      await writeFile(path, content);
      files.set(path, expected(content));
    }
    dangling = join(dir, "nested", "dangling-link");
    await symlink(join(dir, "does-not-exist"), dangling);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("hashes every file, reports the dangling symlink as failed and dead-lettered, exits 0 and stops its server", async () => {
    const run = await runDemo(["--json", dir]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;

    expect(summary.root).toBe(dir);
    expect(summary.files).toBe(files.size + 1);
    expect(summary.succeeded).toBe(files.size);
    expect(summary.failed).toBe(1);
    expect(summary.totalBytes).toBe([...files.values()].reduce((n, f) => n + f.bytes, 0));
    expect(summary.totalLines).toBe([...files.values()].reduce((n, f) => n + f.lines, 0));
    expect(summary.tasksPerSecond).toBeGreaterThan(0);

    const byPath = new Map(summary.results.map((r) => [r.path, r]));
    expect([...byPath.keys()].sort()).toEqual([...files.keys()].sort());
    for (const [path, want] of files) expect(byPath.get(path), path).toEqual({ path, ...want });
    expect(files.get(join(dir, "alpha.txt"))?.lines).toBe(3);
    expect(files.get(join(dir, "no-final-newline.md"))?.lines).toBe(2);
    expect(files.get(join(dir, "empty"))).toEqual({ bytes: 0, lines: 0, sha256: createHash("sha256").digest("hex") });
    expect(summary.largest[0]?.path).toBe(join(dir, "big.bin"));
    expect(summary.largest.map((f) => f.bytes)).toEqual([...summary.largest.map((f) => f.bytes)].sort((a, b) => b - a));

    expect(summary.failures).toHaveLength(1);
    const failure = summary.failures[0]!;
    expect(failure.path).toBe(dangling);
    expect(failure.kind).toBe("unreadable");
    expect(failure.message).toContain(dangling);
    expect(failure.message).toMatch(/ENOENT/);

    expect(summary.deadLettered).toHaveLength(1);
    const letter = summary.deadLettered[0]!;
    expect(letter.taskId).toBe(failure.taskId);
    expect(letter.path).toBe(dangling);
    expect(letter.kind).toBe("unreadable");
    expect(letter.message).toBe(failure.message);
    expect(letter.finalAttempt).toBe(1); // not retryable: straight to the DLQ

    expect(summary.skipped).toEqual([]);
    expect(summary.walkErrors).toEqual([]);

    // The embedded server is gone: no process mentions its store, nothing listens on its port.
    const server = reportedServer(run.stderr);
    const storeRoot = join(server.storeDir, "..");
    expect(processesMentioning(storeRoot)).toEqual([]);
    expect(await listening(server.port)).toBe(false);
    expect(existsSync(storeRoot)).toBe(false);
  });

  it("prints a readable summary without --json, naming the failed file and the DLQ", async () => {
    const run = await runDemo([dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`files:       ${files.size + 1} (${files.size} ok, 1 failed)`);
    expect(run.stdout).toContain(`${dangling}: unreadable: ENOENT: no such file or directory`);
    expect(run.stdout).toContain("dead-lettered: 1 of this run's tasks are in the DLQ");
    expect(run.stderr).toMatch(/progress: 6\/6 \(100%\) 1 failed/);
  });

  it("scans the project root by default, wherever it is started from", async () => {
    const run = await runDemo(["--json"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.root).toBe(PROJECT_ROOT.replace(/\/$/, ""));
    expect(summary.results.some((r) => r.path === join(PROJECT_ROOT, "package.json"))).toBe(true);
    expect(summary.results.some((r) => r.path.includes("/node_modules/"))).toBe(true);
    expect(summary.deadLettered).toHaveLength(summary.failed);
  });

  it("does not follow directory symlinks (no loops) and skips nothing silently", async () => {
    const loops = await mkdtemp(join(tmpdir(), "ebind-demo-loops-"));
    try {
      await mkdir(join(loops, "sub"));
      await writeFile(join(loops, "sub", "file.txt"), "content\n");
      await symlink(loops, join(loops, "sub", "up")); // a loop if it were followed
      await symlink(join(loops, "sub", "file.txt"), join(loops, "link-to-file"));
      await symlink(join(loops, "self"), join(loops, "self")); // ELOOP
      const withFifo = spawnSync("mkfifo", [join(loops, "fifo")]).status === 0;
      const run = await runDemo(["--json", loops]);
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout) as Summary;
      expect(summary.results.map((r) => r.path).sort()).toEqual([join(loops, "link-to-file"), join(loops, "sub", "file.txt")]);
      expect(summary.results[0]?.sha256).toBe(summary.results[1]?.sha256);
      expect(summary.failures.map((f) => [f.path, f.kind])).toEqual([[join(loops, "self"), "unreadable"]]);
      expect(summary.failures[0]?.message).toMatch(/ELOOP.*self/);
      expect(summary.deadLettered.map((d) => d.path)).toEqual([join(loops, "self")]);
      const skipped = [{ path: join(loops, "sub", "up"), reason: "symlink to a directory (not followed)" }];
      if (withFifo) skipped.unshift({ path: join(loops, "fifo"), reason: "FIFO" });
      expect(summary.skipped).toEqual(skipped);
    } finally {
      await rm(loops, { recursive: true, force: true });
    }
  });

  it("exits 1 when the system fails (an unreachable NATS_URL) and 2 on bad usage", async () => {
    const down = await runDemo([dir], { env: { NATS_URL: "nats://127.0.0.1:1" } });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/demo: failed/);
    expect(down.stdout).toBe("");
    const usage = await runDemo([join(dir, "missing-dir")]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage: npm run demo/);
  });
});

function bigContent(size: number): Buffer {
  const line = Buffer.from("x".repeat(99) + "\n");
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += line.length) line.copy(out, at);
  return out;
}
