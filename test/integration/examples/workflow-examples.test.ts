/**
 * Runs each workflow example's `main()` in-process against its own embedded nats-server and checks
 * the lines it prints (reference §5, examples 06–17). Ids and timings vary: those lines are matched
 * by shape, everything else exactly.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { liveChildPids } from "../../../src/embed/index.js";
import { main as linear } from "../../../examples/06-workflow-linear.js";
import { main as fanout } from "../../../examples/07-workflow-fanout.js";
import { main as optional } from "../../../examples/08-workflow-optional.js";
import { main as dynamic } from "../../../examples/09-workflow-dynamic.js";
import { main as temporalDeps } from "../../../examples/10-workflow-temporal-deps.js";
import { main as resume } from "../../../examples/11-workflow-resume.js";
import { main as placement } from "../../../examples/12-workflow-placement.js";
import { main as cancel } from "../../../examples/13-workflow-cancel.js";
import { main as pauseResume } from "../../../examples/14-workflow-pause-resume.js";
import { main as breakpoints } from "../../../examples/15-workflow-breakpoints.js";
import { main as labels } from "../../../examples/16-workflow-labels.js";
import { main as signals } from "../../../examples/17-workflow-signals.js";
import { describeNats } from "../../support/nats.js";

const quiet = (): void => {};
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const EMBEDDED = /^ebind: backend: embedded nats-server at nats:\/\/127\.0\.0\.1:\d+ \(store .+\)$/;

/** Runs an example, checks its backend line, returns the lines after it. */
async function run(main: (out: (line: string) => void) => Promise<string[]>): Promise<string[]> {
  const [backend, ...lines] = await main(quiet);
  expect(backend).toMatch(EMBEDDED);
  return lines;
}

describeNats("workflow examples", () => {
  // The examples honour NATS_URL; the tests must start their own server, never use a shared one.
  const savedUrl = process.env.NATS_URL;
  beforeAll(() => {
    delete process.env.NATS_URL;
  });
  afterAll(() => {
    if (savedUrl !== undefined) process.env.NATS_URL = savedUrl;
  });
  afterEach(() => {
    expect(liveChildPids(), "an example left its nats-server running").toEqual([]);
  });

  it("06-workflow-linear logs the final result, then the debug report of the finished DAG", async () => {
    const lines = await run(linear);
    expect(lines[0]).toBe("final: PROFILE: Alice <alice@example.com>");
    expect(lines[1]).toMatch(new RegExp(`^DAG ${UUID}  \\[DONE\\]  created \\S+ ago  total \\S+$`));
    expect(lines[2]).toBe("  steps: 3 done, 0 failed, 0 skipped, 0 canceled, 0 pending, 0 running");
    expect(lines[3]).toBe("");
    const rows = lines.slice(4, 7);
    expect(rows.map((r) => r.split(/\s+/)[2])).toEqual(["fetch", "format", "profile"]);
    for (const row of rows) expect(row).toMatch(/^ {2}✓ {2}\w+ +done {2}queue \S+ +exec \S+ +worker=worker-1$/);
    expect(lines.slice(7)).toEqual(["", "  blockers: none"]);
  });

  it("07-workflow-fanout runs both roots at once and joins their results", async () => {
    const lines = await run(fanout);
    expect(lines).toHaveLength(3);
    const ran = lines.slice(0, 2).map((l) => /^(profile|history) ran from \+(\d+)ms to \+(\d+)ms$/.exec(l));
    expect(ran.map((m) => m?.[1])).toEqual(["profile", "history"]);
    const [profile, history] = ran.map((m) => ({ start: Number(m![2]), end: Number(m![3]) }));
    // Parallel: each root's handler started before the other's ended (one after the other, it could not).
    expect(profile!.start).toBeLessThan(history!.end);
    expect(history!.start).toBeLessThan(profile!.end);
    expect(lines[2]).toMatch(/^result: profile\(user-42\) has 42 history entries \(took \d+ms\)$/);
  });

  it("08-workflow-optional renders with the fallback and the DAG is done despite the failed optional step", async () => {
    expect(await run(optional)).toEqual([
      "result: rendered(core:user-7 + [no enrichment])",
      "DAG status: done (optional step enrich failed: enrichment service unavailable)",
    ]);
  });

  it("09-workflow-dynamic ends with the scan step and the three pages it added", async () => {
    expect(await run(dynamic)).toEqual(["DAG done with 4 total steps:", "  scan: done", "  page-0: done", "  page-1: done", "  page-2: done"]);
  });

  it("10-workflow-temporal-deps: after skips on failure, afterAny runs anyway", async () => {
    expect(await run(temporalDeps)).toEqual([
      "scenario 1: https://example.com/data.csv",
      "  download: done (1024)",
      '  process: done ("processed")',
      '  metrics: done ("metrics-ok")',
      "  DAG: done",
      "scenario 2: bad://missing",
      "  download: failed (cannot fetch bad://missing)",
      "  process: skipped",
      '  metrics: done ("metrics-ok")',
      "  DAG: failed",
    ]);
  });

  it("11-workflow-resume: a first run stops after fetch; a second, given only the id, finishes the DAG", async () => {
    const storeDir = mkdtempSync(join(tmpdir(), "ebind-resume-test-"));
    try {
      const [backend1, ...first] = await resume(quiet, ["--store-dir", storeDir]);
      expect(backend1).toContain(`(store ${storeDir})`);
      expect(first).toHaveLength(3);
      const dagId = new RegExp(`^submitted DAG (${UUID})$`).exec(first[0] ?? "")?.[1];
      expect(dagId, first[0]).toBeDefined();
      expect(first[1]).toBe("fetch ran in this process: 4 orders of alice; stopping before final");
      expect(first[2]).toBe(`resume with: npx tsx examples/11-workflow-resume.ts --resume ${dagId} --store-dir ${storeDir}`);

      const [backend2, ...second] = await resume(quiet, ["--resume", dagId!, "--store-dir", storeDir]);
      expect(backend2).toContain(`(store ${storeDir})`);
      expect(second).toEqual([`resuming DAG ${dagId}: fetch done, final pending`, 'got profile: {"name":"alice","total":41}']);
    } finally {
      rmSync(storeDir, { recursive: true, force: true });
    }
  });

  it("12-workflow-placement: colocateWith follows the worker, followTargetOf the claim, colocateHere the parent", async () => {
    const lines = await run(placement);
    expect(lines.slice(0, 2)).toEqual([
      "(a) colocateWith: hold-primary ran on worker-a, same-worker on worker-a",
      "(b) followTargetOf: hold-primary ran on worker-b, follow-primary on worker-a",
    ]);
    expect(lines[2]).toMatch(/^\(c\) colocateHere: spawn-here ran on (worker-[ab]), child-here on \1$/);
    expect(lines).toHaveLength(3);
  });

  it("13-workflow-cancel aborts the running step and cancels the rest", async () => {
    expect(await run(cancel)).toEqual([
      "cancel while long runs: true",
      "long step's handler saw its signal abort: kind canceled",
      "long step was canceled",
      "after step was canceled",
      "DAG status: canceled",
    ]);
  });

  it("14-workflow-pause-resume: pausing, paused with load held, then resumed to done", async () => {
    expect(await run(pauseResume)).toEqual([
      "pause while transform runs: pausing",
      "transform finished: paused",
      "load: pending held=true",
      "resume: running",
      "load result: loaded 84 rows",
      "DAG status: done",
    ]);
  });

  it("15-workflow-breakpoints stops after download and before upload until each is released", async () => {
    expect(await run(breakpoints)).toEqual([
      "download result: raw,csv,data (1 blocked)",
      "audit: audit ok",
      "breakpoints:",
      "  download  after   [AfterDownload]  armed  blocked  holding [parse]",
      "  upload    before  [BeforeUpload]   armed  -",
      "resume AfterDownload: released 1",
      "parse = 12 (1 blocked)",
      "resume BeforeUpload: released 1",
      "upload: uploaded 12 rows",
      "DAG status: done",
    ]);
  });

  it("16-workflow-labels finds the DAGs by labels, newest first", async () => {
    expect(await run(labels)).toEqual([
      "nightly billing [billing nightly]: report over 15 rows",
      "ad-hoc billing [billing]: report over 14 rows",
      "weekly reports [reports]: report over 14 rows",
      "billing ⇒ 2: ad-hoc billing, nightly billing",
      "billing + nightly ⇒ 1: nightly billing",
      "reports ⇒ 1: weekly reports",
      "(no labels) ⇒ 3: weekly reports, ad-hoc billing, nightly billing",
    ]);
  });

  it("17-workflow-signals: deploy waits for the approval; the first delivery wins", async () => {
    expect(await run(signals)).toEqual([
      "build: app-v1.2.3.tar.gz",
      "audit: audit ok",
      "signal info: approval awaited waiting=[deploy]",
      "signal from eugene delivered=true",
      "signal from mallory delivered=false",
      "deploy: app-v1.2.3.tar.gz deployed by eugene (ship it)",
      'signal info: approval delivered payload={"by":"eugene","note":"ship it"}',
      "DAG status: done",
    ]);
  });
});
