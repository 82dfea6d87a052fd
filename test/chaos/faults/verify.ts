/**
 * The end-of-run checks of the fault suite and the soak, as lists of problems (empty = fine), so a
 * test can `expect(list).toEqual([])` and the soak can print counts. Free of vitest.
 * @module
 */
import { listDeadLetters } from "../../../src/dlq/index.js";
import { FAULT_STEP_IDS } from "../../support/handlers/faults.js";
import type { ChaosApp } from "./app.js";
import type { LoadReport } from "./load.js";
import { responseCountProblems, resultWriteProblems, type ResultWatch } from "./records.js";

/** Problems found after a load settled. */
export interface RunCheck {
  /** Tasks whose await rejected or whose enqueue never succeeded. */
  readonly tasksLost: string[];
  /** Tasks that resolved with a wrong value. */
  readonly tasksWrong: string[];
  /** DAGs whose await rejected (or never submitted); each says what became of the DAG itself. */
  readonly dagsLost: string[];
  /** DAGs with a wrong final value or a final status other than done. */
  readonly dagsWrong: string[];
  /** Result keys not written exactly once (`key=<count>`). */
  readonly resultWrites: string[];
  /** Tasks without exactly one stored response (`id=<count>`). */
  readonly responses: string[];
  /** Dead letters (`name id kind: error`); the fault handlers never fail, so any is a problem. */
  readonly deadLetters: string[];
}

/** Runs every check on a settled `report`; `watch` must have been opened before the first submit. */
export async function checkRun(app: ChaosApp, report: LoadReport, watch: ResultWatch): Promise<RunCheck> {
  const dead = await listDeadLetters(app.broker, { limit: 100 });
  return {
    tasksLost: report.tasks.lost,
    tasksWrong: report.tasks.wrong,
    dagsLost: report.dags.lost,
    dagsWrong: report.dags.wrong,
    resultWrites: resultWriteProblems(watch.puts, report.dagIds, FAULT_STEP_IDS),
    responses: await responseCountProblems(app, report.taskIds),
    deadLetters: dead.map((d) => (d.entry === undefined ? `seq ${d.seq}: undecodable (${String(d.decodeError)})` : `${d.entry.task.name} ${d.entry.task.id}: ${JSON.stringify(d.entry.error).slice(0, 300)}`)),
  };
}

/** One line per check: `<check>: <count>` and the first few entries. */
export function describeCheck(check: RunCheck): string[] {
  return Object.entries(check).map(([name, list]: [string, string[]]) => `${name}: ${list.length}${list.length === 0 ? "" : ` — ${list.slice(0, 5).join("; ")}${list.length > 5 ? " …" : ""}`}`);
}
