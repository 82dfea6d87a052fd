/**
 * `ebctl dag watch [dag]` (reference §4.2): workflow events as they happen, one line each, from a
 * core-NATS subscription on `DAG.>` (or `DAG.<id>.*.*`) that consumes nothing. With a DAG id and a
 * terminal on stdout it draws the DAG's steps instead, as the `dag tree` layout with durations,
 * redrawn in place as records change, until the DAG finishes.
 * @module
 */
import type { Command } from "commander";
import { decodeDagEvent, type DagEvent, type DagMeta, type StepRecord } from "../../workflow/index.js";
import type { Act } from "../action.js";
import { CliError } from "../errors.js";
import { humanDuration, rfc3339 } from "../format.js";
import { treeLines } from "../glyphs.js";
import type { Session } from "../session.js";

/** One event line: `<now>  DAG <dag>  step <step>  <kind>` and the kind's details. */
export function eventLine(e: DagEvent, now: Date = new Date()): string {
  let line = `${rfc3339(now)}  DAG ${e.dagId}  step ${e.stepId}  ${e.kind}`;
  switch (e.kind) {
    case "completed":
      line += `  status=${e.status ?? ""}`;
      if (e.errorKind) line += `  err=${e.errorKind}`;
      break;
    case "bp_hit":
      line += `  ⦿ position=${e.bpPosition ?? ""} labels=${(e.bpLabels ?? []).join(",")}`;
      break;
    case "bp_resumed":
      line += `  position=${e.bpPosition ?? ""} label=${(e.bpLabels ?? []).join(",")}`;
      break;
    case "signal":
      line += `  ⚑ name=${e.signalName ?? ""}`;
      break;
    default:
      break;
  }
  return line;
}

/** Refuses ids that would widen the subject (`.`, `*`, `>`, spaces). */
function subjectFor(dagId: string | undefined): string {
  if (dagId === undefined) return "DAG.>";
  if (!/^[^.*>\s]+$/.test(dagId)) throw new CliError(`invalid DAG id ${JSON.stringify(dagId)}`);
  return `DAG.${dagId}.*.*`;
}

async function watchEvents(s: Session, dagId: string | undefined): Promise<void> {
  const subject = subjectFor(dagId);
  s.follow();
  const nc = (await s.broker()).connection;
  const sub = nc.subscribe(subject);
  await nc.flush();
  const pump = (async () => {
    for await (const m of sub) {
      let e: DagEvent;
      try {
        e = decodeDagEvent(m.data);
      } catch {
        continue; // undecodable messages are ignored
      }
      s.io.stdout.write(`${eventLine(e)}\n`);
    }
  })();
  await Promise.race([s.stopped(), pump]);
  sub.unsubscribe();
  await pump;
  await s.failIfLost();
}

const TERMINAL_DAG = new Set(["done", "failed", "canceled"]);

/** The live tree's frame: the `dag tree` layout, each step followed by its run (or wait) time. */
export function liveFrame(dagId: string, meta: DagMeta | undefined, steps: ReadonlyMap<string, StepRecord>, now: number = Date.now()): string[] {
  const nodes = [...steps.values()].map((r) => {
    let d = "";
    if (r.startedAt && r.finishedAt) d = `  ${humanDuration(r.finishedAt.getTime() - r.startedAt.getTime())}`;
    else if (r.startedAt) d = `  ${humanDuration(now - r.startedAt.getTime())}…`;
    const bp = r.bpBefore === "blocked" || r.bpAfter === "blocked" ? " ⦿bp" : "";
    return { id: r.stepId, status: r.status, deps: r.deps, suffix: bp + d };
  });
  return [`DAG ${dagId} [${meta?.status ?? "?"}]`, ...treeLines(nodes)];
}

async function watchTree(s: Session, dagId: string): Promise<void> {
  s.follow();
  const wf = await s.workflow();
  await wf.dagInfo(dagId); // dag_not_found before drawing anything
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  s.io.signal?.addEventListener("abort", stop, { once: true });
  let meta: DagMeta | undefined;
  const steps = new Map<string, StepRecord>();
  let caughtUp = false;
  let drawn = 0;
  const draw = (): void => {
    const lines = liveFrame(dagId, meta, steps);
    s.io.stdout.write(`${drawn > 0 ? `\x1b[${drawn}A\r\x1b[J` : ""}${lines.join("\n")}\n`);
    drawn = lines.length;
  };
  const ticker = setInterval(() => caughtUp && draw(), 1000);
  try {
    for await (const c of wf.watch({ dagId, signal: abort.signal, onCaughtUp: () => {
      caughtUp = true;
      draw();
      if (meta && TERMINAL_DAG.has(meta.status)) abort.abort();
    } })) {
      if (c.type === "meta") {
        if (c.meta === null) {
          s.io.stdout.write(`DAG ${dagId} was deleted\n`);
          break;
        }
        meta = c.meta;
      } else if (c.type === "step") {
        if (c.step === null) steps.delete(c.stepId);
        else steps.set(c.stepId, c.step);
      } else continue;
      if (caughtUp) draw();
      if (caughtUp && meta && TERMINAL_DAG.has(meta.status)) break;
    }
  } finally {
    clearInterval(ticker);
    s.io.signal?.removeEventListener("abort", stop);
    abort.abort();
  }
  if (!(meta && TERMINAL_DAG.has(meta.status))) await s.failIfLost();
}

/** Adds `watch` to `dag`. */
export function registerDagWatchCommand(dag: Command, act: Act): void {
  dag
    .command("watch")
    .description("follow workflow events (all DAGs, or one: a live tree on a terminal)")
    .argument("[dag]")
    .action(act((s, [id]) => (id !== undefined && s.io.stdoutIsTTY === true ? watchTree(s, id) : watchEvents(s, id))));
}
