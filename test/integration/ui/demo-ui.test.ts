/**
 * `npm run demo -- --ui`: the dashboard starts beside the demo's run, its address (with the token
 * fragment) is printed, the demo stays up after its report until SIGINT, and the dashboard shows the
 * finished DAG meanwhile.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, it } from "vitest";
import { describeNats } from "../../support/nats.js";
import { eventually } from "../../support/queue.js";
import { http } from "./env.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

describeNats("demo --ui", () => {
  it("prints the dashboard's address, serves the finished DAG after the report, and exits 0 on SIGINT", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ebind-demo-ui-"));
    try {
      for (const name of ["a.txt", "b.txt"]) await writeFile(join(dir, name), `file ${name}\n`);
      const env = { ...process.env };
      delete env.NATS_URL;
      const child = spawn(process.execPath, ["--import", TSX, join(ROOT, "demo", "main.ts"), dir, "--ui"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      const waiting = new Promise<void>((resolve, reject) => {
        child.stderr.on("data", (c: Buffer) => {
          stderr += c.toString();
          if (stderr.includes("Ctrl-C to exit")) resolve();
        });
        void exited.then((code) => reject(new Error(`demo exited (${code}) before waiting: ${stderr}`)));
      });
      await waiting;
      const url = /demo: dashboard at (http:\/\/\S+)/.exec(stderr)?.[1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=\S+$/);
      // stdout and stderr are separate pipes: the report may land after the "Ctrl-C" line.
      await eventually(() => stdout.includes("files:"), "the demo's report on stdout");
      const { port } = new URL(url!);
      // The report is awaited from its step; the DAG's meta turns done just after.
      await eventually(async () => (await http(Number(port), "GET", "/api/dags?status=done")).json.total === 1, "the demo's DAG done on the dashboard");
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
