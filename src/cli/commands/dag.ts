/**
 * `ebctl dag ls|get|tree|cancel|pause|resume|rm` (reference §4.2).
 * @module
 */
import type { Command } from "commander";
import { formatDebug, type DagSummary } from "../../workflow/index.js";
import { collect, nonNegativeInt, type Act } from "../action.js";
import { CliError } from "../errors.js";
import { age, parseDuration, rfc3339 } from "../format.js";
import { treeLines } from "../glyphs.js";
import { Progress } from "../progress.js";
import { debugJson, metaJson } from "../records-json.js";
import type { Session } from "../session.js";

const TERMINAL_DAG = new Set(["done", "failed", "canceled"]);

/** The STEPS column: `<total> (✓d ✗f ▶r ⋯p ⊘s ■c)` plus ` ⦿<n>` / ` ⚑<n>`; `?` without counts. */
export function stepsCell(row: DagSummary): string {
  const c = row.counts;
  if (c === undefined) return "?";
  let s = `${c.total} (✓${c.done} ✗${c.failed} ▶${c.running} ⋯${c.pending} ⊘${c.skipped} ■${c.canceled})`;
  if (c.blockedBreakpoints > 0) s += ` ⦿${c.blockedBreakpoints}`;
  if (c.waitingOnSignals > 0) s += ` ⚑${c.waitingOnSignals}`;
  return s;
}

async function ls(s: Session, opts: Record<string, unknown>): Promise<void> {
  const wf = await s.workflow();
  const pretty = s.printer.format === "pretty";
  const since = opts.since === undefined ? undefined : parseDuration(opts.since as string);
  const progress = new Progress(s.io, "reading DAG records");
  const rows = await wf.listDags({
    status: opts.status as string | undefined,
    labels: opts.label as string[] | undefined,
    createdAfter: since === undefined ? undefined : new Date(Date.now() - since),
    limit: opts.limit as number,
    counts: pretty,
    breakpointBlocked: opts.bpBlocked === true,
    signalWaiting: opts.sigWaiting === true,
    onProgress: (read, total) => progress.update(read, total),
  });
  progress.done();
  const now = Date.now();
  s.printer.table(
    ["ID", "STATUS", "STEPS", "LABELS", "AGE", "CREATED"],
    rows.map((r) => [r.meta.id, r.meta.status, stepsCell(r), r.meta.labels?.length ? r.meta.labels.join(",") : "-", age(r.meta.createdAt, now), rfc3339(r.meta.createdAt)]),
    rows.map((r) => ({ id: r.meta.id, status: r.meta.status, created_at: r.meta.createdAt, labels: r.meta.labels?.length ? r.meta.labels : undefined })),
  );
}

async function get(s: Session, dagId: string): Promise<void> {
  const report = await (await s.workflow()).debug(dagId);
  s.printer.value(formatDebug(report), debugJson(report));
}

async function tree(s: Session, dagId: string): Promise<void> {
  const report = await (await s.workflow()).debug(dagId);
  const blocked = new Set(report.breakpoints.filter((b) => b.state === "blocked").map((b) => b.stepId));
  const steps = report.steps.map((d) => d.record);
  const pretty = [`DAG ${report.meta.id} [${report.meta.status}]`, ...treeLines(steps.map((r) => ({ id: r.stepId, status: r.status, deps: r.deps, suffix: blocked.has(r.stepId) ? " ⦿bp" : "" })))].join("\n");
  s.printer.value(pretty, {
    dag: metaJson(report.meta),
    steps: steps.map((r) => ({ id: r.stepId, status: r.status, deps: r.deps.length ? r.deps : undefined, optional_deps: r.optionalDeps.length ? r.optionalDeps : undefined })),
  });
}

async function rm(s: Session, dagId: string, finishedOnly: boolean): Promise<void> {
  const wf = await s.workflow();
  const { meta } = await wf.dagInfo(dagId);
  if (finishedOnly && !TERMINAL_DAG.has(meta.status)) throw new CliError(`refusing to rm ${dagId} (status=${meta.status}); pass without --finished-only to force`);
  await s.confirm(`Delete DAG ${dagId} (status=${meta.status}) and all its steps/results?`);
  await wf.deleteDag(dagId);
  s.printer.text(`deleted ${dagId}`);
}

/** Adds `ls`, `get`, `tree`, `cancel`, `pause`, `resume`, `rm` to `dag`. */
export function registerDagCommands(dag: Command, act: Act): void {
  dag
    .command("ls")
    .description("list DAGs, newest first")
    .option("--status <status>", "only DAGs in this status (case-insensitive)")
    .option("--since <duration>", "only DAGs created within this duration (e.g. 1h30m)")
    .option("--limit <n>", "at most this many rows (0 = all)", nonNegativeInt, 0)
    .option("--bp-blocked", "only DAGs with a blocked breakpoint")
    .option("--sig-waiting", "only DAGs with a step waiting on a signal")
    .option("--label <label>", "only DAGs carrying this label (repeatable, all must match)", collect)
    .action(act((s, _args, opts) => ls(s, opts)));
  dag
    .command("get")
    .description("show a DAG's debug report")
    .argument("<dag>")
    .action(act((s, [id]) => get(s, id!)));
  dag
    .command("tree")
    .description("show a DAG's steps as a dependency tree")
    .argument("<dag>")
    .action(act((s, [id]) => tree(s, id!)));
  dag
    .command("cancel")
    .description("cancel a DAG (asks first)")
    .argument("<dag>")
    .action(
      act(async (s, [id]) => {
        const wf = await s.workflow();
        await s.confirm(`Cancel DAG ${id!}?`);
        await wf.cancel(id!);
        s.printer.text(`canceled ${id!}`);
      }),
    );
  dag
    .command("pause")
    .description("pause a running DAG")
    .argument("<dag>")
    .action(
      act(async (s, [id]) => {
        const status = await (await s.workflow()).pause(id!);
        s.printer.text(`${status} ${id!}`);
      }),
    );
  dag
    .command("resume")
    .description("resume a paused DAG")
    .argument("<dag>")
    .action(
      act(async (s, [id]) => {
        await (await s.workflow()).resume(id!);
        s.printer.text(`resumed ${id!}`);
      }),
    );
  dag
    .command("rm")
    .description("delete a DAG and all its records (asks first)")
    .argument("<dag>")
    .option("--finished-only", "refuse unless the DAG has finished")
    .action(act((s, [id], opts) => rm(s, id!, opts.finishedOnly === true)));
}
