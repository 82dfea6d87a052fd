/**
 * Scenario 7 — `ebctl dag ls` on 10,000 DAGs (issue 13): a fresh embedded nats-server is seeded
 * with BENCH_N7 DAGs (default 10,000) of 5 steps (a chain a→b→c→d plus e; 1 in 10 labelled `x`, 1
 * in 50 canceled so `--status canceled` finds some), written through `workflow.submit` without a
 * scheduler or worker, 64 submits in flight. Then ebctl runs in-process (`runCli`, output to a
 * byte counter) and each listing is timed, RUNS times: `dag ls -o json` (metas only), `dag ls`
 * pretty (with step counts: every step record read), `dag ls --status failed` (none: metas only),
 * `dag ls --status canceled`, `dag ls --label x` (pretty), `dag ls --label x -o json`.
 * Prints one JSON line per listing (ms; median over runs) in the suite's format.
 */
import { randomUUID } from "node:crypto";
import { Writable, PassThrough } from "node:stream";
import { envInt, isMain, median, now, pool, round, RUNS, type SystemResult } from "./lib/harness.js";
import { connectNats, ensureStreams, silentLogger, Workflow } from "../src/index.js";
import { startNode } from "../src/embed/index.js";
import { runCli } from "../src/cli/program.js";
import { step } from "./lib/handlers.js";

const N = envInt("BENCH_N7", 10_000);

class Counter extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.bytes += chunk.length;
    done();
  }
}

async function ebctl(url: string, args: string[]): Promise<{ ms: number; bytes: number }> {
  const stdout = new Counter();
  const stderr = new Counter();
  const stdin = new PassThrough();
  stdin.end();
  const t0 = now();
  const code = await runCli(args, { stdin, stdout, stderr, isTTY: false, env: { EBIND_NATS_URL: url } });
  const ms = now() - t0;
  if (code !== 0) throw new Error(`ebctl ${args.join(" ")} exited ${code}`);
  return { ms, bytes: stdout.bytes };
}

export async function run(): Promise<SystemResult[]> {
  const node = await startNode();
  try {
    if (node.port === 4222) throw new Error("refusing to use port 4222");
    const broker = await connectNats({ servers: node.url });
    const t0 = now();
    try {
      await ensureStreams(broker);
      const wf = await Workflow.create(broker, { logger: silentLogger });
      await pool(N, 64, async (i) => {
        const dag = wf.dag({ id: `bench-${i}-${randomUUID().slice(0, 8)}`, labels: i % 10 === 0 ? ["x"] : [] });
        let prev = dag.step("a", step, i);
        for (const id of ["b", "c", "d"]) prev = dag.step(id, step, prev.ref());
        dag.step("e", step, i);
        const meta = await wf.submit(dag);
        if (i % 50 === 0) await wf.cancel(meta.id);
      });
      wf.close();
    } finally {
      await broker.close();
    }
    const seedMs = now() - t0;
    process.stderr.write(`[7-ebctl-ls] seeded ${N} DAGs × 5 steps in ${Math.round(seedMs)} ms\n`);

    const listings: [string, string[]][] = [
      ["ls_json", ["dag", "ls", "-o", "json"]],
      ["ls_pretty_counts", ["dag", "ls"]],
      ["ls_status_failed", ["dag", "ls", "--status", "failed"]],
      ["ls_status_canceled", ["dag", "ls", "--status", "canceled"]],
      ["ls_label_x_pretty", ["dag", "ls", "--label", "x"]],
      ["ls_label_x_json", ["dag", "ls", "--label", "x", "-o", "json"]],
    ];
    const runs: Record<string, number>[] = [];
    const bytes: Record<string, number> = {};
    for (let r = 0; r < RUNS; r++) {
      const figures: Record<string, number> = {};
      for (const [name, args] of listings) {
        const res = await ebctl(node.url, args);
        figures[`${name}_ms`] = res.ms;
        bytes[name] = res.bytes;
      }
      runs.push(figures);
      process.stderr.write(`[7-ebctl-ls] run ${r + 1}/${RUNS}: ${JSON.stringify(Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, round(v, 1)])))}\n`);
    }
    const keys = Object.keys(runs[0]!);
    const line: SystemResult = {
      scenario: "7-ebctl-ls",
      system: "ours",
      runs: runs.map((f) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, round(v, 1)]))),
      median: { ...Object.fromEntries(keys.map((k) => [k, round(median(runs.map((f) => f[k]!)), 1)])), seed_ms: round(seedMs, 0), dags: N },
      ratio_vs_bullmq: null,
      ratio_vs_raw: null,
      notes: `${N} DAGs × 5 steps in a fresh nats-server; ebctl in-process (connect + Workflow.create + list + print); output bytes ${JSON.stringify(bytes)}`,
    };
    process.stdout.write(JSON.stringify(line) + "\n");
    return [line];
  } finally {
    await node.stop();
  }
}

if (isMain(import.meta.url)) await run();
