/**
 * Runs the demo (`demo/main.ts`) as a child process over directories with known files and checks its
 * JSON and text summaries, its exit codes, that it leaves no nats-server behind, and that a run
 * killed half-way is resumed — not started over — by running it again with the same DAG id and store.
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeNats } from "../../support/nats.js";
import type { Summary } from "../../../demo/output.js";

const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEMO = join(PROJECT_ROOT, "demo", "main.ts");
/** tsx's loader, by URL, so the demo can start from any working directory (`--import tsx` resolves from the cwd). */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const RUN_TIMEOUT_MS = 60_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** SIGKILLs the demo as soon as this returns true for the stderr printed so far. */
  killWhen?: (stderr: string) => boolean;
}

/** Runs the demo with `node --import tsx`; never uses a NATS server it did not start unless `env` says so. */
function runDemo(args: string[], options: RunOptions = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (options.env?.NATS_URL === undefined) delete env.NATS_URL;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX, DEMO, ...args], { cwd: options.cwd ?? PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (options.killWhen?.(stderr) && child.exitCode === null) child.kill("SIGKILL");
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`demo did not exit within ${RUN_TIMEOUT_MS} ms\nstderr:\n${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
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

/** Writes `contents` under `dir`; returns each file's expected result by absolute path. */
async function writeTree(dir: string, contents: ReadonlyArray<readonly [string, Buffer]>): Promise<Map<string, Expected>> {
  const files = new Map<string, Expected>();
  for (const [rel, content] of contents) {
    const path = join(dir, rel);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, content);
    files.set(path, expected(content));
  }
  return files;
}

/** The per-file results of a summary must be exactly `files`. */
function expectResults(summary: Summary, files: ReadonlyMap<string, Expected>): void {
  const byPath = new Map(summary.results.map((r) => [r.path, r]));
  expect([...byPath.keys()].sort()).toEqual([...files.keys()].sort());
  for (const [path, want] of files) expect(byPath.get(path), path).toEqual({ path, ...want });
  expect(summary.totalBytes).toBe([...files.values()].reduce((n, f) => n + f.bytes, 0));
  expect(summary.totalLines).toBe([...files.values()].reduce((n, f) => n + f.lines, 0));
}

describeNats("demo", () => {
  let dir: string;
  let files: Map<string, Expected>;
  let dangling: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ebind-demo-test-"));
    files = await writeTree(dir, [
      ["alpha.txt", Buffer.from("alpha\nbeta\ngamma\n")], // 3 lines
      ["no-final-newline.md", Buffer.from("one\ntwo")], // 2 lines
      ["empty", Buffer.alloc(0)], // 0 lines
      [join("nested", "deeper", "inner.txt"), Buffer.from("héllo wörld\n")], // 1 line, multi-byte UTF-8
      [join("nested", "alpha-copy.txt"), Buffer.from("alpha\nbeta\ngamma\n")], // same content as alpha.txt
      // 3 MiB spanning many read chunks: 100-byte lines, the last one cut short.
      ["big.bin", bigContent(3 * 1024 * 1024)],
    ]);
    dangling = join(dir, "nested", "dangling-link");
    await symlink(join(dir, "does-not-exist"), dangling);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("hashes every file in chunk steps, reports the dangling symlink and the duplicates, exits 0 and stops its server", async () => {
    const run = await runDemo(["--json", "--chunk-size", "3", dir]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;

    expect(summary.root).toBe(dir);
    expect(summary.resumed).toBe(false);
    expect(summary.stepsDoneAtStart).toEqual([]);
    // 7 files in chunks of 3: scan, hash-0..hash-2, report — each run once, by this process.
    expect(summary.chunks).toBe(3);
    expect(summary.stepsRun.map((r) => r.step).sort()).toEqual(["hash-0", "hash-1", "hash-2", "report", "scan"]);
    expect(summary.stepsRun.every((r) => r.attempt === 1)).toBe(true);
    expect(summary.files).toBe(files.size + 1);
    expect(summary.succeeded).toBe(files.size);
    expect(summary.failed).toBe(1);
    expect(summary.filesPerSecond).toBeGreaterThan(0);
    expectResults(summary, files);
    expect(files.get(join(dir, "alpha.txt"))?.lines).toBe(3);
    expect(files.get(join(dir, "no-final-newline.md"))?.lines).toBe(2);
    expect(files.get(join(dir, "empty"))).toEqual({ bytes: 0, lines: 0, sha256: createHash("sha256").digest("hex") });
    expect(summary.largest[0]?.path).toBe(join(dir, "big.bin"));
    expect(summary.largest.map((f) => f.bytes)).toEqual([...summary.largest.map((f) => f.bytes)].sort((a, b) => b - a));

    const alpha = files.get(join(dir, "alpha.txt"))!;
    expect(summary.duplicates).toEqual({
      groups: 1,
      files: 2,
      wastedBytes: alpha.bytes,
      listed: [{ sha256: alpha.sha256, bytes: alpha.bytes, count: 2, paths: [join(dir, "alpha.txt"), join(dir, "nested", "alpha-copy.txt")] }],
    });

    // The unreadable file is an entry of the report, not a failed step: nothing went to the DLQ.
    expect(summary.failures).toHaveLength(1);
    const failure = summary.failures[0]!;
    expect(failure.path).toBe(dangling);
    expect(failure.kind).toBe("unreadable");
    expect(failure.message).toContain(dangling);
    expect(failure.message).toMatch(/ENOENT/);

    expect(summary.skipped).toEqual([]);
    expect(summary.walkErrors).toEqual([]);
    expect(run.stderr).toMatch(/the store is a temporary directory: this run cannot be resumed/);

    // The embedded server is gone: no process mentions its store, nothing listens on its port.
    const server = reportedServer(run.stderr);
    const storeRoot = join(server.storeDir, "..");
    expect(processesMentioning(storeRoot)).toEqual([]);
    expect(await listening(server.port)).toBe(false);
    expect(existsSync(storeRoot)).toBe(false);
  });

  it("prints a readable summary without --json: the unreadable file, the duplicates, the progress", async () => {
    const run = await runDemo([dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`files:       ${files.size + 1} (${files.size} ok, 1 unreadable)`);
    expect(run.stdout).toContain("identical content: 1 group of 2 files");
    expect(run.stdout).toContain(`      ${join(dir, "nested", "alpha-copy.txt")}`);
    expect(run.stdout).toContain(`${dangling}: unreadable: ENOENT: no such file or directory`);
    expect(run.stderr).toMatch(/progress: 3\/3 steps done, 7\/7 files hashed \(100%\)/);
  });

  it("scans the project root by default, wherever it is started from", async () => {
    const run = await runDemo(["--json"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.root).toBe(PROJECT_ROOT.replace(/\/$/, ""));
    expect(summary.results.some((r) => r.path === join(PROJECT_ROOT, "package.json"))).toBe(true);
    expect(summary.results.some((r) => r.path.includes("/node_modules/"))).toBe(true);
    expect(summary.failures).toHaveLength(summary.failed);
    expect(summary.results).toHaveLength(summary.succeeded);
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
      expect(summary.duplicates.listed.map((g) => g.paths)).toEqual([[join(loops, "link-to-file"), join(loops, "sub", "file.txt")]]);
      expect(summary.failures.map((f) => [f.path, f.kind])).toEqual([[join(loops, "self"), "unreadable"]]);
      expect(summary.failures[0]?.message).toMatch(/ELOOP.*self/);
      const skipped = [{ path: join(loops, "sub", "up"), reason: "symlink to a directory (not followed)" }];
      if (withFifo) skipped.unshift({ path: join(loops, "fifo"), reason: "FIFO" });
      expect(summary.skipped).toEqual(skipped);
      expect(summary.skippedCount).toBe(skipped.length);
    } finally {
      await rm(loops, { recursive: true, force: true });
    }
  });

  it("exits 1 when the system fails (an unreachable NATS_URL) and 2 on bad usage", async () => {
    const down = await runDemo([dir], { env: { NATS_URL: "nats://127.0.0.1:1" } });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/demo: failed/);
    expect(down.stdout).toBe("");
    for (const args of [[join(dir, "missing-dir")], ["--chunk-size", "0", dir], ["--dag-id", "no spaces", dir], ["--nope"]]) {
      const usage = await runDemo(args);
      expect(usage.code, args.join(" ")).toBe(2);
      expect(usage.stderr).toMatch(/usage: npm run demo/);
    }
  });

  it("resumes a run killed half-way: the DAG is not resubmitted, done chunks are not hashed again, the report is complete", async () => {
    const tree = await mkdtemp(join(tmpdir(), "ebind-demo-resume-"));
    const store = await mkdtemp(join(tmpdir(), "ebind-demo-store-"));
    try {
      // 300 files, 100 contents of 3 files each; chunks of 10 → 30 hash steps.
      const contents = Array.from({ length: 300 }, (_, i) => [join(`d${i % 7}`, `f${i}.txt`), Buffer.from(`content ${i % 100}\n`.repeat(1 + (i % 100) % 4))] as const);
      const want = await writeTree(tree, contents);
      const dagId = `resume-${randomBytes(4).toString("hex")}`;
      // One worker running two steps at once: at most two chunks are in flight when the run is killed.
      const args = ["--json", "--verbose", "--chunk-size", "10", "--workers", "1", "--concurrency", "2", "--store-dir", store, "--dag-id", dagId, tree];
      const hashed = (stderr: string): Array<{ step: string; attempt: number }> =>
        [...stderr.matchAll(/^demo: step (hash-\d+) \(attempt (\d+)\) done/gm)].map((m) => ({ step: m[1]!, attempt: Number(m[2]) }));

      // Run 1: slow hashing (20 ms a file: 200 ms a chunk, two at a time); SIGKILL once 8 of 30 chunks are hashed.
      const first = await runDemo([...args, "--hash-delay-ms", "20"], { killWhen: (stderr) => hashed(stderr).length >= 8 });
      expect(first.signal, first.stderr).toBe("SIGKILL");
      expect(first.stdout).toBe("");
      expect(first.stderr).toContain(`resume with: npm run demo -- --dag-id ${dagId} --store-dir ${store}`);
      const firstRun = new Set(hashed(first.stderr).map((r) => r.step));
      expect(firstRun.size).toBeGreaterThanOrEqual(8);
      expect(firstRun.size).toBeLessThan(30);

      // Run 2, same DAG id and store: it waits for the killed run's server, resumes, and finishes.
      const second = await runDemo(args);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/previous demo on this store \(pid \d+\) died; waiting for its nats-server to stop/);
      expect(second.stderr).toMatch(new RegExp(`resuming DAG ${dagId} \\(running, ${tree}\\): \\d+/\\d+ steps done; nothing is resubmitted`));
      const summary = JSON.parse(second.stdout) as Summary;
      expect(summary.dagId).toBe(dagId);
      expect(summary.resumed).toBe(true);
      expect(summary.chunks).toBe(30);

      // What run 1 finished stays finished: the scan and the chunks it hashed are not run again...
      const doneAtStart = summary.stepsDoneAtStart.filter((s) => s.startsWith("hash-"));
      expect(summary.stepsDoneAtStart).toContain("scan");
      expect(doneAtStart.length).toBeGreaterThan(0);
      for (const step of doneAtStart) expect(firstRun.has(step), step).toBe(true);
      const ranNow = summary.stepsRun.map((r) => r.step);
      expect(ranNow).not.toContain("scan");
      // ...except a chunk whose result was stored but whose task ack died with run 1: it is delivered
      // again (attempt 2) — at-least-once — and at most the two chunks that were in flight.
      const again = summary.stepsRun.filter((r) => doneAtStart.includes(r.step));
      expect(again.length).toBeLessThanOrEqual(2);
      for (const r of again) expect(r.attempt, r.step).toBeGreaterThanOrEqual(2);
      // ...and everything else is done by run 2, the report included.
      const all = Array.from({ length: 30 }, (_, n) => `hash-${n}`);
      expect(all.filter((s) => !doneAtStart.includes(s) && !ranNow.includes(s))).toEqual([]);
      expect(ranNow.filter((s) => s.startsWith("hash-")).length).toBeLessThan(30);
      expect(ranNow).toContain("report");

      // The report covers every file, whichever run hashed it.
      expect(summary.files).toBe(300);
      expect(summary.succeeded).toBe(300);
      expect(summary.failed).toBe(0);
      expectResults(summary, want);
      expect(summary.duplicates.groups).toBe(100);
      expect(summary.duplicates.files).toBe(300);
      const group = summary.duplicates.listed.find((g) => g.sha256 === want.get(join(tree, "d0", "f0.txt"))!.sha256);
      expect(group?.paths).toEqual([join(tree, "d0", "f0.txt"), join(tree, "d2", "f100.txt"), join(tree, "d4", "f200.txt")]);

      // Its server is gone too.
      expect(await listening(reportedServer(second.stderr).port)).toBe(false);

      // Once finished, the DAG id prints the same report without running anything; it names one directory only.
      const third = await runDemo(args);
      expect(third.code, third.stderr).toBe(0);
      expect(third.stderr).toContain(`DAG ${dagId} (${tree}) already finished; printing its report`);
      const finished = JSON.parse(third.stdout) as Summary;
      expect(finished.stepsRun).toEqual([]);
      expect({ ...finished, elapsedMs: 0, filesPerSecond: 0, stepsDoneAtStart: [], stepsRun: [], backend: "" }).toEqual({
        ...summary,
        elapsedMs: 0,
        filesPerSecond: 0,
        stepsDoneAtStart: [],
        stepsRun: [],
        backend: "",
      });
      const elsewhere = await runDemo(["--store-dir", store, "--dag-id", dagId, dir]);
      expect(elsewhere.code).toBe(2);
      expect(elsewhere.stderr).toContain(`DAG ${dagId} hashes ${tree}, not ${dir}`);
    } finally {
      await rm(tree, { recursive: true, force: true });
      await rm(store, { recursive: true, force: true });
    }
  }, 120_000);
});

function bigContent(size: number): Buffer {
  const line = Buffer.from("x".repeat(99) + "\n");
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += line.length) line.copy(out, at);
  return out;
}
