/**
 * ebctl's pure pieces: HumanDuration/Age/bytes/duration parsing (reference §4.1), the JSON writer
 * (Go's MarshalIndent, raw JSON kept), table alignment, the tree layout, the tables of bp/signal
 * listings, the no-result reasons, and the completion scripts.
 */
import { describe, expect, it } from "vitest";
import { age, humanBytes, humanDuration, parseDuration, rfc3339 } from "../../../src/cli/format.js";
import { compactJson, indentJson, prettyJson, RawJson } from "../../../src/cli/json.js";
import { alignTable, parseOutputFormat } from "../../../src/cli/output.js";
import { treeLines } from "../../../src/cli/glyphs.js";
import { breakpointRows } from "../../../src/cli/commands/dag-bp.js";
import { signalRows, truncatePayload } from "../../../src/cli/commands/dag-signal.js";
import { bpStateSuffix, noResultError } from "../../../src/cli/commands/dag-step.js";
import { stepsCell } from "../../../src/cli/commands/dag.js";
import { eventLine, liveFrame } from "../../../src/cli/commands/dag-watch.js";
import { cut } from "../../../src/cli/commands/dlq.js";
import { bashCompletion, fishCompletion, zshCompletion } from "../../../src/cli/completion.js";
import { buildProgram } from "../../../src/cli/program.js";
import type { StepRecord } from "../../../src/workflow/index.js";

describe("format", () => {
  it("humanDuration follows HumanDuration's bands", () => {
    expect(humanDuration(0)).toBe("—");
    expect(humanDuration(-5)).toBe("—");
    expect(humanDuration(0.0005)).toBe("500ns");
    expect(humanDuration(0.0123)).toBe("12.3µs");
    expect(humanDuration(12.34)).toBe("12.3ms");
    expect(humanDuration(1234)).toBe("1.23s");
    expect(humanDuration(59_999)).toBe("60.00s");
    expect(humanDuration(60_000)).toBe("1m0s");
    expect(humanDuration(123_900)).toBe("2m3s");
    expect(humanDuration(3_723_000)).toBe("1h2m3s");
  });

  it("age, bytes, RFC 3339, durations", () => {
    const now = Date.parse("2026-01-01T00:01:00Z");
    expect(age(new Date("2026-01-01T00:00:00Z"), now)).toBe("1m0s");
    expect(age(undefined, now)).toBe("—");
    expect([humanBytes(512), humanBytes(1536), humanBytes(3.2 * 1024 * 1024)]).toEqual(["512B", "1.5KB", "3.2MB"]);
    expect(rfc3339(new Date("2026-05-01T10:00:00.123Z"))).toBe("2026-05-01T10:00:00Z");
    expect([parseDuration("10s"), parseDuration("1h30m"), parseDuration("250ms"), parseDuration("1.5h"), parseDuration("0")]).toEqual([10_000, 5_400_000, 250, 5_400_000, 0]);
    for (const bad of ["", "10", "s", "1x", "-1s", "1s x"]) expect(() => parseDuration(bad), bad).toThrow(/invalid duration/);
  });
});

describe("printers", () => {
  it("JSON as MarshalIndent writes it, raw JSON re-indented but never parsed", () => {
    const v = { a: 1, skip: undefined, raw: new RawJson('{"n":123456789012345678901234567890123456789,"e":[],"o":{}}'), list: ["x", null], t: new Date("2026-05-01T10:00:00.5Z") };
    expect(compactJson(v)).toBe('{"a":1,"raw":{"n":123456789012345678901234567890123456789,"e":[],"o":{}},"list":["x",null],"t":"2026-05-01T10:00:00.5Z"}');
    expect(prettyJson(v)).toBe(
      '{\n  "a": 1,\n  "raw": {\n    "n": 123456789012345678901234567890123456789,\n    "e": [],\n    "o": {}\n  },\n  "list": [\n    "x",\n    null\n  ],\n  "t": "2026-05-01T10:00:00.5Z"\n}',
    );
    expect(indentJson('{"s":"a,b:{[\\"]}"}')).toBe('{\n  "s": "a,b:{[\\"]}"\n}');
    expect(prettyJson([])).toBe("[]");
  });

  it("tables padded by 2 past the widest cell, the last column unpadded, widths in code points", () => {
    expect(alignTable([["ID", "STEPS", "X"], ["a-long-id", "3 (✓1)", "y"]])).toBe("ID         STEPS   X\na-long-id  3 (✓1)  y\n");
  });

  it("output formats", () => {
    expect(["", "pretty", "table", undefined].map(parseOutputFormat)).toEqual(["pretty", "pretty", "pretty", "pretty"]);
    expect(parseOutputFormat("json")).toBe("json");
    expect(() => parseOutputFormat("yaml")).toThrow('unknown output format "yaml" (want pretty|json)');
  });
});

describe("dag views", () => {
  it("tree: roots sorted with └─, children sorted, each node once under its first parent, unreached nodes appended", () => {
    const lines = treeLines([
      { id: "c", status: "pending", deps: ["a", "b"] },
      { id: "a", status: "done", deps: [] },
      { id: "b", status: "running", deps: ["a"] },
      { id: "d", status: "failed", deps: ["a"], suffix: " ⦿bp" },
      { id: "e", status: "weird", deps: [] },
      { id: "z", status: "skipped", deps: ["missing"] },
    ]);
    expect(lines).toEqual(["└─ ✓ a [done]", "   ├─ ▶ b [running]", "   ├─ ⋯ c [pending]", "   └─ ✗ d [failed] ⦿bp", "└─ ? e [weird]", "└─ ⊘ z [skipped]"]);
    const deep = treeLines([
      { id: "r", status: "done", deps: [] },
      { id: "m", status: "done", deps: ["r"] },
      { id: "n", status: "done", deps: ["r"] },
      { id: "leaf", status: "canceled", deps: ["m"] },
    ]);
    expect(deep).toEqual(["└─ ✓ r [done]", "   ├─ ✓ m [done]", "   │  └─ ■ leaf [canceled]", "   └─ ✓ n [done]"]);
  });

  it("STEPS cell, bp and signal rows, state suffixes, payload truncation", () => {
    const counts = { total: 5, done: 1, failed: 1, running: 1, pending: 1, skipped: 1, canceled: 0, blockedBreakpoints: 2, waitingOnSignals: 1 };
    expect(stepsCell({ meta: {} as never, counts })).toBe("5 (✓1 ✗1 ▶1 ⋯1 ⊘1 ■0) ⦿2 ⚑1");
    expect(stepsCell({ meta: {} as never })).toBe("?");
    const now = Date.parse("2026-01-01T00:00:10Z");
    const t = new Date("2026-01-01T00:00:00Z");
    expect(
      breakpointRows(
        [
          { stepId: "a", position: "after", labels: ["X"], armed: true, state: "blocked", blockedSince: t, holding: ["b", "c"] },
          { stepId: "b", position: "before", labels: ["X", "Y"], armed: false },
        ],
        now,
      ),
    ).toEqual([
      ["a", "after", "X", "yes", "blocked", "10.00s", "b,c"],
      ["b", "before", "X,Y", "no", "-", "-", "-"],
    ]);
    expect(
      signalRows(
        [
          { name: "approval", delivered: false, waiting: ["deploy"] },
          { name: "budget-ok", delivered: true, deliveredAt: t, payload: `"${"x".repeat(50)}"` },
        ],
        now,
      ),
    ).toEqual([
      ["approval", "no", "-", "deploy", "-"],
      ["budget-ok", "yes", "10.00s ago", "-", `"${"x".repeat(38)}…`],
    ]);
    expect([truncatePayload(undefined), truncatePayload("short"), truncatePayload("0123456789abcdef", 10)]).toEqual(["-", "short", "012345678…"]);
    expect(bpStateSuffix(undefined, undefined)).toBe("");
    expect(bpStateSuffix("released", t)).toBe("  [released]");
    expect(bpStateSuffix("blocked", t, now)).toBe("  [blocked 10.00s ago]");
    expect(bpStateSuffix("blocked", undefined)).toBe("  [blocked]");
    expect(cut("é".repeat(70), 60)).toBe(`${"é".repeat(59)}…`);
  });

  it("no-result reasons", () => {
    const rec = (over: Partial<StepRecord>): StepRecord => ({ status: "failed", ...over }) as StepRecord;
    expect(noResultError("d", "s", null).message).toBe("no result for d/s: step not found");
    expect(noResultError("d", "s", rec({ errorKind: "handler", errorMessage: "dial: connection refused" })).message).toBe("no result for d/s: step failed (handler: dial: connection refused)");
    expect(noResultError("d", "s", rec({ errorKind: "deadline" })).message).toBe("no result for d/s: step failed (deadline)");
    expect(noResultError("d", "s", rec({ errorMessage: "m" })).message).toBe("no result for d/s: step failed (m)");
    expect(noResultError("d", "s", rec({})).message).toBe("no result for d/s: step failed (no error recorded)");
    expect(noResultError("d", "s", rec({ status: "canceled" })).message).toBe("no result for d/s: step was canceled");
    expect(noResultError("d", "s", rec({ status: "running" })).message).toBe("no result for d/s: step is running (not done yet)");
  });

  it("watch lines per event kind, and the live tree's frame", () => {
    const at = new Date("2026-01-01T00:00:00Z");
    expect(eventLine({ kind: "completed", dagId: "d", stepId: "s", status: "failed", errorKind: "boom" }, at)).toBe("2026-01-01T00:00:00Z  DAG d  step s  completed  status=failed  err=boom");
    expect(eventLine({ kind: "bp_hit", dagId: "d", stepId: "s", bpPosition: "before", bpLabels: ["a", "b"] }, at)).toBe("2026-01-01T00:00:00Z  DAG d  step s  bp_hit  ⦿ position=before labels=a,b");
    expect(eventLine({ kind: "bp_resumed", dagId: "d", stepId: "s", bpPosition: "after", bpLabels: ["a"] }, at)).toBe("2026-01-01T00:00:00Z  DAG d  step s  bp_resumed  position=after label=a");
    expect(eventLine({ kind: "signal", dagId: "d", stepId: "d", signalName: "go" }, at)).toBe("2026-01-01T00:00:00Z  DAG d  step d  signal  ⚑ name=go");
    expect(eventLine({ kind: "step_added", dagId: "d", stepId: "n" }, at)).toBe("2026-01-01T00:00:00Z  DAG d  step n  step_added");
    const step = (id: string, over: Partial<StepRecord>): StepRecord => ({ stepId: id, deps: [], status: "pending", ...over }) as StepRecord;
    const steps = new Map([
      ["a", step("a", { status: "done", startedAt: new Date(0), finishedAt: new Date(1500) })],
      ["b", step("b", { status: "running", deps: ["a"], startedAt: new Date(2000) })],
      ["c", step("c", { deps: ["a"], bpBefore: "blocked" })],
    ]);
    expect(liveFrame("d", { status: "running" } as never, steps, 4500)).toEqual(["DAG d [running]", "└─ ✓ a [done]  1.50s", "   ├─ ▶ b [running]  2.50s…", "   └─ ⋯ c [pending] ⦿bp"]);
  });
});

describe("completion", () => {
  const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, isTTY: false, env: {} };
  const program = buildProgram(io, () => undefined as never, () => undefined as never);

  it("bash/zsh scripts know every command path and its flags, from the commander tree", () => {
    const bash = bashCompletion(program);
    expect(bash).toContain("complete -F _ebctl_completion ebctl");
    expect(bash).toContain("'dag bp resume'");
    expect(bash).toMatch(/'dag ls'\) words='[^']*--bp-blocked[^']*--server/);
    expect(bash).toMatch(/''\) words='version completion dag dlq stream consumer/);
    // Each word once (the root's own flags are the global ones: a new user saw them twice).
    for (const line of bash.split("\n").filter((l) => l.includes(") words='"))) {
      const words = /words='([^']*)'/.exec(line)![1]!.split(" ");
      expect(new Set(words).size, line).toBe(words.length);
    }
    expect(zshCompletion(program)).toMatch(/^#compdef ebctl\n[\s\S]*bashcompinit[\s\S]*_ebctl_completion/);
  });

  it("fish script completes subcommands under their parent and each command's flags", () => {
    const fish = fishCompletion(program);
    expect(fish).toContain(`complete -c ebctl -n '__ebctl_is '\\''dag'\\''' -a 'watch'`);
    expect(fish).toContain("complete -c ebctl -l server -s s -r");
    expect(fish).toMatch(/__ebctl_is '\\''dlq requeue'\\''' -l all/);
  });

  it("every generated script parses in its shell (bash -n)", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync("bash", ["-n"], { input: bashCompletion(program), encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
  });
});

describe("progress", () => {
  it("silent unless stderr is a terminal; then shown past 500 items (or 1 s) and erased when done", async () => {
    const { Progress } = await import("../../../src/cli/progress.js");
    const { PassThrough } = await import("node:stream");
    const capture = (tty: boolean): { text: () => string; io: ConstructorParameters<typeof Progress>[0] } => {
      const stderr = new PassThrough();
      let text = "";
      stderr.on("data", (c: Buffer) => (text += c.toString()));
      return { text: () => text, io: { stdin: new PassThrough(), stdout: new PassThrough(), stderr, isTTY: false, env: {}, stderrIsTTY: tty } };
    };
    const quiet = capture(false);
    const p1 = new Progress(quiet.io, "reading");
    for (let i = 1; i <= 2000; i++) p1.update(i, 2000);
    p1.done();
    const loud = capture(true);
    const p2 = new Progress(loud.io, "reading");
    p2.update(10, 2000);
    await new Promise((r) => setImmediate(r));
    expect(loud.text()).toBe("");
    p2.update(600, 2000);
    p2.done();
    await new Promise((r) => setImmediate(r));
    expect(quiet.text()).toBe("");
    expect(loud.text()).toBe("\r\x1b[2Kreading: 600/2000 (30%)\r\x1b[2K");
  });
});
