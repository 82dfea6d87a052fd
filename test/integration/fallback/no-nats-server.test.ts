/**
 * A machine without nats-server (DESIGN.md §5, §6): the demo falls back to the memory backend and
 * says so; `npm test` passes, announcing the NATS suites it skipped; with EBIND_REQUIRE_NATS=1 the
 * run fails. Shown by running with a PATH that has no nats-server on it.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const require = createRequire(import.meta.url);
const TSX = pathToFileURL(require.resolve("tsx")).href;
const VITEST = join(ROOT, "node_modules", "vitest", "vitest.mjs");

/** The environment with every PATH entry holding a nats-server removed, and no NATS variables. */
function withoutNatsServer(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NATS_SERVER_BIN;
  delete env.NATS_URL;
  delete env.EBIND_REQUIRE_NATS;
  Object.assign(env, extra);
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "" && !existsSync(join(dir, "nats-server")))
    .join(delimiter);
  return env;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

// A few files: one NATS suite (to be skipped or failed) and one that needs no server (to run).
const SUBSET = ["run", "test/contract/nats.test.ts", "test/unit/broker/clock.test.ts", "--reporter=default"];

it("without nats-server the tests pass, saying loudly which NATS suites were skipped", async () => {
  const { code, out } = await run([VITEST, ...SUBSET], withoutNatsServer());
  expect(out).toContain("!!! nats-server not found");
  expect(out).toContain("SKIPPING NATS suite");
  expect(out).toMatch(/\d+ passed/);
  expect(code).toBe(0);
});

it("without nats-server and with EBIND_REQUIRE_NATS=1 the run fails, saying why", async () => {
  const { code, out } = await run([VITEST, ...SUBSET], withoutNatsServer({ EBIND_REQUIRE_NATS: "1" }));
  expect(out).toMatch(/nats-server not found on PATH or in NATS_SERVER_BIN, and EBIND_REQUIRE_NATS=1/);
  expect(code).not.toBe(0);
});

it("without nats-server the demo runs on the memory backend and says so", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ebind-fallback-"));
  try {
    await writeFile(join(dir, "a.txt"), "one\ntwo\n");
    await writeFile(join(dir, "b.txt"), "three");
    const { code, out } = await run(["--import", TSX, join(ROOT, "demo", "main.ts"), "--json", dir], withoutNatsServer());
    expect(out).toContain("ebind: backend: in-process memory backend (nats-server not found");
    expect(code).toBe(0);
    const summary = JSON.parse(out.slice(out.indexOf("{"), out.lastIndexOf("}") + 1)) as { files: number; failed: unknown[] };
    expect(summary.files).toBe(2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
