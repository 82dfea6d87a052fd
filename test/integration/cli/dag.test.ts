/**
 * `ebctl dag …` against a real nats-server (reference §4.2, §6.16, §7 items 141–147): every command
 * in pretty and JSON form, confirmations, and bad input leaving the state unchanged.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { silentLogger } from "../../../src/broker/index.js";
import { ensureStreams } from "../../../src/broker/index.js";
import { connectNats, type NatsBroker } from "../../../src/nats/index.js";
import { Registry } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { alwaysLeader, Workflow, type Scheduler } from "../../../src/workflow/index.js";
import { add, fail } from "../../support/handlers/workflow.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { ebctl, eventually } from "./support.js";

describeNats("ebctl dag", () => {
  const node = useNatsNode();
  let broker: NatsBroker;
  let workflow: Workflow;
  let worker: Worker;
  let scheduler: Scheduler;
  let url: string;
  const run = (args: string[], opts: Parameters<typeof ebctl>[1] = {}): ReturnType<typeof ebctl> => ebctl(args, { url, ...opts });

  const untilStatus = async (id: string, status: string): Promise<void> =>
    eventually(async () => expect((await workflow.dagInfo(id)).meta.status).toBe(status));

  beforeAll(async () => {
    url = node().url;
    broker = await connectNats({ servers: url });
    await ensureStreams(broker);
    workflow = await Workflow.create(broker, { logger: silentLogger });
    const registry = new Registry();
    registry.register(add);
    registry.register(fail);
    worker = await Worker.start(broker, registry, { logger: silentLogger, pullExpiresMs: 1000, stepHook: workflow.stepHook, middleware: [workflow.middleware] });
    scheduler = await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });

    const ok = workflow.dag({ id: "ok-1", labels: ["team-a", "nightly"] });
    const a = ok.step("a", add, 1, 2);
    ok.step("b", add, a.ref(), 10);
    ok.step("c", add, a.ref(), 20);
    await workflow.submit(ok);
    const bad = workflow.dag({ id: "bad-1" });
    const x = bad.step("x", fail, "dial tcp: connection refused");
    bad.step("y", add, x.ref(), 1);
    await workflow.submit(bad);
    const held = workflow.dag({ id: "held-1", labels: ["team-a"] });
    held.step("first", add, 1, 1);
    held.step("gate", add, 2, 2).breakBefore("review");
    held.step("sig", add, 3, 3).waitForSignal("go");
    await workflow.submit(held, { breakpoints: ["review"] });
    await untilStatus("ok-1", "done");
    await untilStatus("bad-1", "failed");
    await eventually(async () => expect((await workflow.listDags({ breakpointBlocked: true })).map((r) => r.meta.id)).toEqual(["held-1"]));
  });

  afterAll(async () => {
    await scheduler?.stop();
    await worker?.close();
    workflow?.close();
    await broker?.close();
  });

  it("dag ls: JSON rows {id,status,created_at,labels?} newest first; --status any case; --label ANDed; pretty columns with step counts", async () => {
    const json = await run(["dag", "ls", "-o", "json"]);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(rows.map((r) => r.id)).toEqual(["held-1", "bad-1", "ok-1"]);
    expect(Object.keys(rows[0]!)).toEqual(["id", "status", "created_at", "labels"]);
    expect(Object.keys(rows[1]!)).toEqual(["id", "status", "created_at"]);
    expect(rows[2]).toMatchObject({ id: "ok-1", status: "done", labels: ["team-a", "nightly"] });
    expect(json.stdout).toMatch(/^\[\n {2}\{\n {4}"id": "held-1",\n {4}"status": "running",\n {4}"created_at": "\d{4}-\d\d-\d\dT[\d:.]+Z",/);

    expect(JSON.parse((await run(["dag", "ls", "-o", "json", "--status", "FAILED"])).stdout)).toEqual([expect.objectContaining({ id: "bad-1" })]);
    expect(JSON.parse((await run(["dag", "ls", "-o", "json", "--label", "team-a", "--label", "nightly"])).stdout).map((r: { id: string }) => r.id)).toEqual(["ok-1"]);
    expect(JSON.parse((await run(["dag", "ls", "-o", "json", "--limit", "1"])).stdout).map((r: { id: string }) => r.id)).toEqual(["held-1"]);
    expect(JSON.parse((await run(["dag", "ls", "-o", "json", "--bp-blocked"])).stdout).map((r: { id: string }) => r.id)).toEqual(["held-1"]);
    expect(JSON.parse((await run(["dag", "ls", "-o", "json", "--sig-waiting"])).stdout).map((r: { id: string }) => r.id)).toEqual(["held-1"]);
    expect(JSON.parse((await run(["dag", "ls", "-o", "json", "--since", "1ms"])).stdout)).toEqual([]);

    const pretty = await run(["dag", "ls"]);
    expect(pretty.code).toBe(0);
    const lines = pretty.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID {6}STATUS {3}STEPS {24}LABELS {10}AGE +CREATED$/);
    expect(lines[1]).toMatch(/^held-1 {2}running {2}3 \(✓1 ✗0 ▶0 ⋯2 ⊘0 ■0\) ⦿1 ⚑1 {2}team-a {10}\S+ +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(lines[2]).toMatch(/^bad-1 {3}failed {3}2 \(✓0 ✗1 ▶0 ⋯0 ⊘1 ■0\) {8}- {15}\S+ +\S+Z$/);
    expect(lines[3]).toMatch(/^ok-1 {4}done {5}3 \(✓3 ✗0 ▶0 ⋯0 ⊘0 ■0\) {8}team-a,nightly {2}\S+ +\S+Z$/);
  });

  it("dag get: JSON DAGDebug with Go field names; pretty is the debug report", async () => {
    const json = await run(["dag", "get", "ok-1", "-o", "json"]);
    expect(json.code).toBe(0);
    expect(json.stdout).toContain('"step_id": "a"');
    const d = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(d)).toEqual(["Meta", "Steps", "Counts", "TotalDuration", "Blockers", "Breakpoints", "Signals"]);
    expect(d.Counts).toEqual({ done: 3 });
    expect(d.Blockers).toBeNull();
    const steps = d.Steps as Record<string, unknown>[];
    expect(steps.map((s) => s.step_id)).toEqual(["a", "b", "c"]);
    expect(steps[1]).toMatchObject({ dag_id: "ok-1", fn_name: "wf.add", deps: ["a"], status: "done", BPNote: "", SigNote: "" });
    expect(typeof steps[1]!.ExecDuration).toBe("number");
    expect((d.Meta as Record<string, unknown>).id).toBe("ok-1");

    const pretty = await run(["dag", "get", "held-1"]);
    expect(pretty.stdout).toMatch(/^DAG held-1 {2}\[RUNNING\]/);
    expect(pretty.stdout).toContain("steps: 1 done, 0 failed, 0 skipped, 0 canceled, 2 pending, 0 running");
    expect(pretty.stdout).toContain("labels: team-a");
    expect(pretty.stdout).toContain("sig:waiting[go]");
  });

  it("dag tree: pretty tree from the roots with glyphs and ⦿bp; JSON {dag, steps}", async () => {
    const pretty = await run(["dag", "tree", "ok-1"]);
    expect(pretty.stdout).toBe("DAG ok-1 [done]\n└─ ✓ a [done]\n   ├─ ✓ b [done]\n   └─ ✓ c [done]\n");
    const held = await run(["dag", "tree", "held-1"]);
    expect(held.stdout).toBe("DAG held-1 [running]\n└─ ✓ first [done]\n└─ ⋯ gate [pending] ⦿bp\n└─ ⋯ sig [pending]\n");
    const json = JSON.parse((await run(["dag", "tree", "bad-1", "-o", "json"])).stdout) as { dag: { id: string; status: string }; steps: unknown[] };
    expect(json.dag).toMatchObject({ id: "bad-1", status: "failed" });
    expect(json.steps).toEqual([
      { id: "x", status: "failed" },
      { id: "y", status: "skipped", deps: ["x"] },
    ]);
  });

  it("dag step get and dag step result, with the reasons a result is missing", async () => {
    const got = await run(["dag", "step", "get", "ok-1", "b"]);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/^Step ok-1\/b {2}\[done\] {2}attempt=1 {2}rev=\d+\nfn: {11}wf\.add\nadded_at: {5}\S+Z\nstarted_at: {3}\S+Z\nfinished_at: {2}\S+Z\nworker: {7}\S+\ndeps: {9}\[a\]\nargs: {9}\[\{"__ebind_ref__":"__ebind_ref__","step_id":"a","mode":"required"\},10\]\n$/);
    const json = JSON.parse((await run(["dag", "step", "get", "ok-1", "b", "-o", "json"])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ dag_id: "ok-1", step_id: "b", status: "done", deps: ["a"] });
    expect(typeof json.revision).toBe("number");

    expect(await run(["dag", "step", "result", "ok-1", "b"])).toEqual({ code: 0, stdout: "13\n", stderr: "" });
    expect(await run(["dag", "step", "result", "ok-1", "b", "--raw"])).toEqual({ code: 0, stdout: "13", stderr: "" });
    expect(await run(["dag", "step", "result", "bad-1", "x"])).toEqual({ code: 1, stdout: "", stderr: "ebctl: no result for bad-1/x: step failed (boom: dial tcp: connection refused)\n" });
    expect((await run(["dag", "step", "result", "bad-1", "y"])).stderr).toBe("ebctl: no result for bad-1/y: step was skipped\n");
    expect((await run(["dag", "step", "result", "held-1", "gate"])).stderr).toBe("ebctl: no result for held-1/gate: step is pending (not done yet)\n");
    expect((await run(["dag", "step", "result", "held-1", "nope"])).stderr).toBe("ebctl: no result for held-1/nope: step not found\n");
  });

  it("dag bp ls and dag bp resume", async () => {
    const ls = await run(["dag", "bp", "ls", "held-1"]);
    expect(ls.stdout).toMatch(/^STEP {2}POS {5}LABELS {2}ARMED {2}STATE {4}SINCE +HOLDING\ngate {2}before {2}review {2}yes {4}blocked {2}\S+ +-\n$/);
    expect(JSON.parse((await run(["dag", "bp", "ls", "held-1", "-o", "json"])).stdout)).toEqual([
      { step_id: "gate", position: "before", labels: ["review"], armed: true, state: "blocked", blocked_since: expect.stringMatching(/Z$/) },
    ]);
    expect((await run(["dag", "bp", "ls", "ok-1"])).stdout).toBe("no breakpoints declared\n");
  });

  it("dag signal: validation, delivery, duplicate, terminal DAG; dag signal ls", async () => {
    const bad = await run(["dag", "signal", "held-1", "go", "{nope"]);
    expect(bad).toEqual({ code: 1, stdout: "", stderr: 'ebctl: payload is not valid JSON: "{nope"\n' });
    expect((await workflow.listSignals("held-1")).filter((s) => s.delivered)).toEqual([]);

    expect((await run(["dag", "signal", "ls", "held-1"])).stdout).toBe("NAME  DELIVERED  AT  WAITING  PAYLOAD\ngo    no         -   sig      -\n");
    const big = `{"n":123456789012345678901234567890123456789,"note":"${"x".repeat(40)}"}`;
    expect((await run(["dag", "signal", "held-1", "go", big])).stdout).toBe('delivered signal "go" to held-1\n');
    expect((await run(["dag", "signal", "held-1", "go", "1", "-o", "json"])).stdout).toBe('{\n  "dag_id": "held-1",\n  "name": "go",\n  "delivered": false\n}\n');
    expect((await run(["dag", "signal", "held-1", "go"])).stdout).toBe('signal "go" already delivered to held-1 (first payload kept)\n');
    expect((await run(["dag", "signal", "ok-1", "late"])).stdout).toBe('DAG is done; signal "late" not delivered\n');

    const ls = await run(["dag", "signal", "ls", "held-1"]);
    expect(ls.stdout).toMatch(/^NAME {2}DELIVERED {2}AT +WAITING {2}PAYLOAD\ngo {4}yes {8}\S+ ago {2}- {8}\S+\n$/);
    expect(ls.stdout.trimEnd().endsWith(`  ${big.slice(0, 39)}…`)).toBe(true);
    const json = JSON.parse((await run(["dag", "signal", "ls", "held-1", "-o", "json"])).stdout) as Record<string, unknown>[];
    expect(json[0]).toMatchObject({ name: "go", delivered: true });
    // The payload is stored and printed exactly: the 39-digit integer is not rounded.
    expect((await run(["dag", "signal", "ls", "held-1", "-o", "json"])).stdout).toContain('"n": 123456789012345678901234567890123456789');

    // A DAG whose id is `ls` can still be signalled (a new user found the subcommand in the way).
    const named = workflow.dag({ id: "ls" });
    named.step("w", add, 1, 1).waitForSignal("approval");
    await workflow.submit(named);
    expect(await run(["dag", "signal", "ls", "approval", '{"by":"ops"}'])).toEqual({ code: 0, stdout: 'delivered signal "approval" to ls\n', stderr: "" });
    expect((await run(["dag", "signal", "ls", "ls"])).stdout).toMatch(/^NAME +DELIVERED +AT +WAITING +PAYLOAD\napproval +yes +\S+ ago +- +\{"by":"ops"\}\n$/);
  });

  it("dag pause / resume: texts, invalid states name the id and status, --status paused lists it", async () => {
    const d = workflow.dag({ id: "pz-1" });
    d.step("w", add, 1, 1).breakBefore("hold");
    await workflow.submit(d, { breakpoints: ["hold"] });
    expect(await run(["dag", "pause", "pz-1"])).toEqual({ code: 0, stdout: "paused pz-1\n", stderr: "" });
    expect((await workflow.dagInfo("pz-1")).meta.status).toBe("paused");
    expect(JSON.parse((await run(["dag", "ls", "-o", "json", "--status", "Paused"])).stdout).map((r: { id: string }) => r.id)).toEqual(["pz-1"]);
    expect(await run(["dag", "resume", "pz-1"])).toEqual({ code: 0, stdout: "resumed pz-1\n", stderr: "" });
    expect((await workflow.dagInfo("pz-1")).meta.status).toBe("running");
    expect(JSON.parse((await run(["dag", "bp", "resume", "pz-1", "hold", "-o", "json"])).stdout)).toEqual({ dag_id: "pz-1", label: "hold", released: 1 });
    await untilStatus("pz-1", "done");

    const pause = await run(["dag", "pause", "ok-1"]);
    expect(pause.code).toBe(1);
    expect(pause.stderr).toMatch(/^ebctl: .*ok-1.*done/);
    const resume = await run(["dag", "resume", "ok-1"]);
    expect(resume.code).toBe(1);
    expect(resume.stderr).toMatch(/^ebctl: .*ok-1.*done/);
    expect((await workflow.dagInfo("ok-1")).meta.status).toBe("done");
  });

  it("dag cancel and dag rm: refuse on a non-TTY without --yes, prompt on a TTY (n aborts, y proceeds), --finished-only", async () => {
    const d = workflow.dag({ id: "cx-1" });
    d.step("w", add, 1, 1).breakBefore("hold");
    await workflow.submit(d, { breakpoints: ["hold"] });

    expect(await run(["dag", "cancel", "cx-1"])).toEqual({ code: 1, stdout: "", stderr: "ebctl: refusing destructive operation on non-TTY without --yes\n" });
    expect(await run(["dag", "cancel", "cx-1"], { isTTY: true, input: "n\n" })).toEqual({ code: 1, stdout: "", stderr: "Cancel DAG cx-1? [y/N]: ebctl: aborted\n" });
    expect((await workflow.dagInfo("cx-1")).meta.status).toBe("running");

    const rmRunning = await run(["dag", "rm", "cx-1", "--finished-only", "--yes"]);
    expect(rmRunning).toEqual({ code: 1, stdout: "", stderr: "ebctl: refusing to rm cx-1 (status=running); pass without --finished-only to force\n" });

    expect(await run(["dag", "cancel", "cx-1"], { isTTY: true, input: "y\n" })).toEqual({ code: 0, stdout: "canceled cx-1\n", stderr: "Cancel DAG cx-1? [y/N]: " });
    expect((await workflow.dagInfo("cx-1")).meta.status).toBe("canceled");

    expect((await run(["dag", "rm", "cx-1"])).stderr).toBe("ebctl: refusing destructive operation on non-TTY without --yes\n");
    expect((await run(["dag", "rm", "cx-1"], { isTTY: true, input: "no\n" })).stderr).toBe("Delete DAG cx-1 (status=canceled) and all its steps/results? [y/N]: ebctl: aborted\n");
    expect((await workflow.dagInfo("cx-1")).meta.id).toBe("cx-1");
    expect(await run(["dag", "rm", "cx-1", "--finished-only", "--yes"])).toEqual({ code: 0, stdout: "deleted cx-1\n", stderr: "" });
    await expect(workflow.dagInfo("cx-1")).rejects.toThrow(/not found/);
    expect(await workflow.getStep("cx-1", "w")).toBeNull();
  });

  it("unknown DAG and unknown output format: the message, status 1, nothing printed on stdout", async () => {
    for (const args of [["dag", "get", "nope"], ["dag", "tree", "nope"], ["dag", "pause", "nope"], ["dag", "rm", "nope", "--yes"], ["dag", "cancel", "nope", "--yes"], ["dag", "bp", "ls", "nope"], ["dag", "signal", "nope", "go"]]) {
      const r = await run(args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^ebctl: workflow: DAG not found: nope/);
    }
    expect(await run(["dag", "ls", "-o", "yaml"])).toEqual({ code: 1, stdout: "", stderr: 'ebctl: unknown output format "yaml" (want pretty|json)\n' });
    expect((await run(["dag", "ls", "-o", "table"])).code).toBe(0);
    expect(JSON.parse((await run(["version", "-o", "json"])).stdout)).toEqual({ text: expect.stringMatching(/^ebctl \S+$/) });
  });

  it("dag watch: one line per event from a core subscription, until the signal aborts", async () => {
    const stop = new AbortController();
    let out = "";
    const watching = run(["dag", "watch", "held-1"], { signal: stop.signal, onStdout: (all) => (out = all) });
    await eventually(async () => {
      await workflow.signal("held-1", "ping");
      expect(out).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}DAG held-1 {2}step held-1 {2}signal {2}⚑ name=ping$/m);
    });
    await workflow.signal("ok-1", "elsewhere"); // another DAG: not shown
    await workflow.resumeBreakpoint("held-1", "review");
    await eventually(() => expect(out).toMatch(/DAG held-1 {2}step gate {2}bp_resumed {2}position=before label=review$/m));
    await eventually(() => expect(out).toMatch(/DAG held-1 {2}step gate {2}completed {2}status=done$/m));
    stop.abort();
    expect((await watching).code).toBe(0);
    expect(out).not.toContain("ok-1");
  });

  it("dag watch <id> on a terminal: a live tree redrawn in place, ending by itself when the DAG finishes", async () => {
    const d = workflow.dag({ id: "live-1" });
    const a = d.step("a", add, 1, 1);
    d.step("b", add, a.ref(), 1).breakBefore("go");
    await workflow.submit(d, { breakpoints: ["go"] });
    await eventually(async () => expect((await workflow.getStep("live-1", "a"))?.status).toBe("done"));
    let out = "";
    const watching = run(["dag", "watch", "live-1"], { stdoutIsTTY: true, onStdout: (all) => (out = all) });
    await eventually(() => expect(out).toContain("└─ ⋯ b [pending] ⦿bp"));
    expect(out.startsWith("DAG live-1 [running]\n└─ ✓ a [done]  ")).toBe(true);
    await workflow.resumeBreakpoint("live-1", "go");
    const r = await watching; // ends without a signal: the DAG finished
    expect(r.code).toBe(0);
    expect(out).toContain("\x1b[3A\r\x1b[J"); // redrawn over the previous 3 lines
    const last = out.slice(out.lastIndexOf("\x1b[J") + 3);
    expect(last).toMatch(/^DAG live-1 \[done\]\n└─ ✓ a \[done\] {2}\S+\n {3}└─ ✓ b \[done\] {2}\S+\n$/);
  });

  it("dag watch <id> on a terminal for a DAG already finished draws it once and ends", async () => {
    const r = await run(["dag", "watch", "ok-1"], { stdoutIsTTY: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^DAG ok-1 \[done\]\n└─ ✓ a \[done\] {2}\S+\n {3}├─ ✓ b \[done\] {2}\S+\n {3}└─ ✓ c \[done\] {2}\S+\n$/);
    expect(await run(["dag", "watch", "nope"], { stdoutIsTTY: true })).toMatchObject({ code: 1, stderr: "ebctl: workflow: DAG not found: nope\n" });
  });
});
