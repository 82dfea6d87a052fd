/**
 * `ebctl dag step get|result` (reference §4.2): one step's record, and its stored result bytes.
 * @module
 */
import type { Command } from "commander";
import type { RetryPolicyData } from "../../task/index.js";
import { formatDuration, type StepRecord, type StepRecordAt } from "../../workflow/index.js";
import type { Act } from "../action.js";
import { CliError } from "../errors.js";
import { age, rfc3339 } from "../format.js";
import { alignTable } from "../output.js";
import { stepJson } from "../records-json.js";
import type { Session } from "../session.js";

/** Go's `%v` of a string slice: `[a b]`. */
export function goList(xs: readonly string[]): string {
  return `[${xs.join(" ")}]`;
}

/**
 * The state suffix of a breakpoint position (reference §4.2 `dag step get`): `  [blocked <age> ago]`,
 * `  [blocked]` (no time), `  [released]`, or empty.
 */
export function bpStateSuffix(state: string | undefined, blockedAt: Date | undefined, now: number = Date.now()): string {
  if (state === "released") return "  [released]";
  if (state !== "blocked") return "";
  return blockedAt === undefined ? "  [blocked]" : `  [blocked ${age(blockedAt, now)} ago]`;
}

/** A retry policy as Go's `%+v` dumps the struct. */
export function policyDump(p: RetryPolicyData): string {
  return `{InitialInterval:${formatDuration(p.initialIntervalMs)} BackoffCoefficient:${p.backoffCoefficient} MaximumInterval:${formatDuration(p.maximumIntervalMs)} MaximumAttempts:${p.maximumAttempts} NonRetryableErrorKinds:${goList(p.nonRetryableErrorKinds ?? [])}}`;
}

/** The pretty form of `dag step get`: a title line, then aligned `name: value` lines. */
export function formatStep(r: StepRecordAt, now: number = Date.now()): string {
  const rows: [string, string][] = [["fn:", r.fnName], ["added_at:", rfc3339(r.addedAt)]];
  if (r.startedAt) rows.push(["started_at:", rfc3339(r.startedAt)]);
  if (r.finishedAt) rows.push(["finished_at:", rfc3339(r.finishedAt)]);
  if (r.workerId) rows.push(["worker:", r.workerId]);
  if (r.errorKind) rows.push(["error_kind:", r.errorKind]);
  if (r.errorMessage) rows.push(["error_msg:", r.errorMessage]);
  if (r.deps.length) rows.push(["deps:", goList(r.deps)]);
  if (r.optional) rows.push(["optional:", "true"]);
  if (r.breakBefore.length) rows.push(["break_before:", goList(r.breakBefore) + bpStateSuffix(r.bpBefore, r.bpBlockedAt, now)]);
  if (r.breakAfter.length) rows.push(["break_after:", goList(r.breakAfter) + bpStateSuffix(r.bpAfter, r.bpBlockedAt, now)]);
  if (r.waitSignals.length) rows.push(["wait_signals:", goList(r.waitSignals)]);
  rows.push(["args:", r.argsJson]);
  if (r.policy) rows.push(["retry_policy:", policyDump(r.policy)]);
  return `Step ${r.dagId}/${r.stepId}  [${r.status}]  attempt=${r.attempt}  rev=${r.revision}\n${alignTable(rows)}`;
}

/** Why a step has no result (reference §4.2 `dag step result`). */
export function noResultError(dagId: string, stepId: string, r: StepRecord | null): CliError {
  const head = `no result for ${dagId}/${stepId}`;
  if (r === null) return new CliError(`${head}: step not found`);
  switch (r.status) {
    case "failed": {
      const why = r.errorKind && r.errorMessage ? `${r.errorKind}: ${r.errorMessage}` : r.errorKind || r.errorMessage || "no error recorded";
      return new CliError(`${head}: step failed (${why})`);
    }
    case "skipped":
      return new CliError(`${head}: step was skipped`);
    case "canceled":
      return new CliError(`${head}: step was canceled`);
    default:
      return new CliError(`${head}: step is ${r.status} (not done yet)`);
  }
}

async function get(s: Session, dagId: string, stepId: string): Promise<void> {
  const r = await (await s.workflow()).getStep(dagId, stepId);
  if (r === null) throw new CliError(`step ${dagId}/${stepId} not found`);
  s.printer.value(formatStep(r), stepJson(r, { revision: r.revision }));
}

async function result(s: Session, dagId: string, stepId: string, raw: boolean): Promise<void> {
  const wf = await s.workflow();
  const bytes = await wf.storedResult(dagId, stepId);
  if (bytes === undefined) throw noResultError(dagId, stepId, await wf.getStep(dagId, stepId));
  s.io.stdout.write(bytes);
  if (!raw) s.io.stdout.write("\n");
}

/** Adds `step get` and `step result` to `dag`. */
export function registerDagStepCommands(dag: Command, act: Act): void {
  const step = dag.command("step").description("inspect one step of a DAG");
  step
    .command("get")
    .description("show a step's record")
    .argument("<dag>")
    .argument("<step>")
    .action(act((s, [d, st]) => get(s, d!, st!)));
  step
    .command("result")
    .description("print a step's stored result")
    .argument("<dag>")
    .argument("<step>")
    .option("--raw", "write the bytes verbatim, without a newline")
    .action(act((s, [d, st], opts) => result(s, d!, st!, opts.raw === true)));
}
