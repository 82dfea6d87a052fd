/**
 * Handling `completed: done` events — one, or several of one DAG at once — from the scheduler's
 * cached graph (reference §3.15, same outcome as the full handling, fewer reads): read the meta,
 * the completed steps' dependents and their dependencies — directly, no listing — start the
 * dependents that became ready, and look at the rest of the DAG only when none of those dependents
 * is left to run. A dependent's dependencies are looked at from where the last look stopped, and
 * the look ends at the first one not terminal (`waitsOnDependency`): a fan-in of n steps costs O(n)
 * reads over all its events, not O(n²) (issue 14: a 10,000-step fan-out/fan-in did not finish in
 * 8 minutes; it now runs at the rate of a 1,000-step one).
 *
 * Why nothing is missed although the graph may be older than the event:
 * - the graph is used only while the meta is at the revision it was listed under, and whoever adds a
 *   step touches the meta afterwards (the creator, and every scheduler handling `step_added`, before
 *   it reads the new step's dependencies). A step added after the listing therefore either moved
 *   the meta before these events' meta read — the graph is not used — or had its `step_added`
 *   handled after the completed steps' statuses were written, and that handling starts it if it
 *   is ready;
 * - statuses are read now, or taken from records seen terminal before (terminal is final);
 * - the DAG is finalised only by the full handling, which lists the steps again, and only once
 *   every step the graph knows was seen terminal;
 * - starting a step is a compare-and-set from pending to running plus a publish under the step's
 *   message id, so two schedulers starting it store one task.
 * Anything this path does not cover — a meta not running, no graph, steps with breakpoints, signals
 * or placements that name other steps — is left to the full handling ("full").
 * @module
 */
import type { WorkflowCore } from "../store/core.js";
import { startSteps, type ArgContext } from "./enqueue.js";
import type { DagGraph, GraphCache } from "./graph-cache.js";
import { readyToRun } from "../plan/index.js";
import { isTerminal, type DagEvent, type DagMeta, type StepRecord } from "../model/records.js";
import type { Versioned } from "../store/store.js";

/**
 * What became of done events: handled here; to be handled from the full DAG state; or that, with
 * the DAG's steps listed, because every step the graph knows has finished ("finish": the DAG is
 * about to be finalised, which a listing must confirm anyway).
 */
export type DoneHandling = "handled" | "full" | "finish";

/** Steps read at once while looking for one that is not terminal. */
const SETTLED_READ_BATCH = 64;

/**
 * Handles `completed` events with status done of `stepIds` (one DAG's events, handled together)
 * from the cached graph.
 * @returns "handled" when nothing more is to be done for the events; "full" when the caller must
 *   handle them from the full DAG state (which also refreshes the graph); "finish" likewise, when
 *   every step the graph knows is terminal (see {@link DoneHandling}).
 * @throws store and publish errors (the events are retried).
 */
export async function handleDoneEvents(core: WorkflowCore, graphs: GraphCache, dagId: string, events: readonly DagEvent[]): Promise<DoneHandling> {
  const stepIds = events.map((e) => e.stepId);
  const meta = await core.store.getMeta(dagId);
  if (!meta) {
    graphs.drop(dagId);
    return "handled"; // deleted DAG
  }
  const status = meta.value.status;
  if (status === "done" || status === "failed" || status === "canceled") graphs.drop(dagId);
  if (status !== "running") return status === "pausing" ? "full" : "handled";
  const graph = graphs.get(dagId, meta.revision);
  const completed = new Set(stepIds);
  if (!graph || [...completed].some((id) => !graph.has(id) || gatesDependents(graph.shape(id)!, meta.value))) return "full";
  // An event of another incarnation of a step (the DAG re-created under its id) is the full path's to drop.
  if (events.some((e) => e.stepAddedAt !== undefined && e.stepAddedAt.getTime() !== graph.shape(e.stepId)!.addedAt.getTime())) return "full";
  // A done event of this incarnation of its step (step_added_at, checked just above) is final: a
  // done step is never reopened (a requeue reopens failed and skipped ones, and moves the meta).
  // Noted as known terminal, it saves the reads a fan-in's later events would make to find it so
  // (a 100-step fan-in read 7 step records per step without this). Events without the field (ebind
  // for Go) are not noted: they cannot be told from an event of an earlier DAG under the same id.
  for (const e of events) {
    if (e.stepAddedAt !== undefined) graph.note(doneShape(graph, e.stepId));
  }

  const dependents = new Set<string>();
  for (const id of completed) for (const d of graph.dependentsOf(id)) dependents.add(d);
  // A dependent with a dependency that is not terminal is not ready, and the DAG is not finished:
  // nothing to decide for it now; that dependency's own event (or cascade) comes later.
  let waiting = false;
  for (const id of [...dependents]) {
    const waits = await waitsOnDependency(core, graph, dagId, id, completed);
    if (waits === undefined) return "full";
    if (waits) {
      dependents.delete(id);
      waiting = true;
    }
  }
  const needed = new Set<string>();
  for (const id of dependents) {
    const shape = graph.shape(id)!;
    if (graph.usesSignals(id) || !plain(shape, meta.value)) return "full";
    for (const dep of [...shape.deps, ...shape.optionalDeps]) needed.add(dep);
    needed.add(id);
  }
  for (const id of needed) if (!graph.has(id) || gatesDependents(graph.shape(id)!, meta.value)) return "full";

  // The completed steps are not read: the hook wrote them done before publishing their events (a
  // read might even lag behind that). Their fixed parts are all the dependents need.
  for (const id of completed) needed.delete(id);
  const steps = await current(core, graph, dagId, needed);
  if (!steps) return "full";
  for (const s of steps.values()) graph.note(s.value);
  for (const id of completed) {
    const own = graph.knownTerminal(id) ?? doneShape(graph, id);
    steps.set(id, { value: own, revision: 0 }); // a done step is never started
  }

  const view = { meta: meta.value, steps: new Map([...steps].map(([id, s]) => [id, s.value])), signals: new Map() };
  const ready = readyToRun(view)
    .filter((id) => dependents.has(id))
    .map((id) => steps.get(id)!);
  // Results the completion events carried (kept with the graph) save reading them back.
  for (const e of events) if (e.result !== undefined) graph.noteResult(e.stepId, e.result);
  const ctx: ArgContext = { step: (id) => view.steps.get(id), signal: () => undefined, knownResult: (id) => graph.result(id) };
  await startSteps(core, meta.value, ready, ctx);

  // A dependent not terminal when read will end with an event (or a cascade) of its own, whose
  // handling looks at the rest of the DAG then; so will a dependency a dependent waits on.
  if (waiting || [...dependents].some((id) => !isTerminal(view.steps.get(id)!.status))) return "handled";
  return (await someStepUnsettled(core, graph, dagId, completed)) ? "handled" : "finish";
}

/**
 * The records of `ids`: those known terminal from the graph, the others read now.
 * @returns undefined when one of them does not exist (any more).
 */
async function current(core: WorkflowCore, graph: DagGraph, dagId: string, ids: Iterable<string>): Promise<Map<string, Versioned<StepRecord>> | undefined> {
  const out = new Map<string, Versioned<StepRecord>>();
  const toRead: string[] = [];
  for (const id of ids) {
    const known = graph.knownTerminal(id);
    if (known) out.set(id, { value: known, revision: 0 }); // never written: terminal steps are not started
    else toRead.push(id);
  }
  const read = await core.store.getSteps(dagId, toRead);
  if (read.size !== toRead.length) return undefined;
  for (const [id, s] of read) out.set(id, s);
  return out;
}

/**
 * Whether some dependency (required or optional) of `stepId`, other than the `completed` steps, is
 * not terminal now. Dependencies are looked at in order from where the last look stopped — those
 * before it were seen terminal, which is final while the graph is used — the first one alone (it
 * was not terminal last time), then the others in batches, stopping at the first that is not
 * terminal. Each dependency is read terminal at most once per graph, so the events of a fan-in of
 * n steps cost O(n) reads in all instead of O(n²).
 * @returns undefined when a dependency is not in the graph or does not exist (any more).
 */
async function waitsOnDependency(core: WorkflowCore, graph: DagGraph, dagId: string, stepId: string, completed: ReadonlySet<string>): Promise<boolean | undefined> {
  const { deps, optionalDeps } = graph.shape(stepId)!;
  const total = deps.length + optionalDeps.length;
  const at = (i: number): string => (i < deps.length ? deps[i]! : optionalDeps[i - deps.length]!);
  const seenTerminal = new Set<string>(); // read terminal now (a step with breakpoint labels is not noted in the graph)
  const settled = (id: string): boolean => completed.has(id) || seenTerminal.has(id) || graph.knownTerminal(id) !== undefined;
  let i = graph.dependencyCursor(stepId);
  for (let size = 1; ; size = SETTLED_READ_BATCH) {
    while (i < total && settled(at(i))) i++;
    if (i >= total) break;
    const batch: string[] = [];
    for (let j = i; j < total && batch.length < size; j++) {
      const id = at(j);
      if (!graph.has(id)) return undefined;
      if (!settled(id)) batch.push(id);
    }
    const read = await core.store.getSteps(dagId, batch);
    if (read.size !== new Set(batch).size) return undefined;
    for (const [id, s] of read) {
      graph.note(s.value);
      if (isTerminal(s.value.status)) seenTerminal.add(id);
    }
    while (i < total && settled(at(i))) i++;
    if (i < total && read.has(at(i))) {
      graph.setDependencyCursor(stepId, i);
      return true; // read just now, not terminal
    }
  }
  graph.setDependencyCursor(stepId, i);
  return false;
}

/**
 * Whether some step the graph knows, other than the `completed` ones, is not terminal: reads the
 * steps not known terminal (the last one seen unsettled first, alone) in batches, stopping at the
 * first batch that has one.
 */
async function someStepUnsettled(core: WorkflowCore, graph: DagGraph, dagId: string, completed: ReadonlySet<string>): Promise<boolean> {
  const ids = graph.unsettled().filter((id) => !completed.has(id));
  for (let i = 0; i < ids.length; i += i === 0 ? 1 : SETTLED_READ_BATCH) {
    const batch = ids.slice(i, i === 0 ? 1 : i + SETTLED_READ_BATCH);
    const read = await core.store.getSteps(dagId, batch);
    if (read.size !== batch.length) return false; // a step vanished: let the full handling look
    let unsettled: string | undefined;
    for (const [id, s] of read) {
      graph.note(s.value);
      if (!isTerminal(s.value.status)) unsettled ??= id;
    }
    if (unsettled !== undefined) {
      graph.noteUnsettled(unsettled);
      return true;
    }
  }
  return false;
}

/** A completed step's fixed parts (as the graph has them) with the status its done event reports. */
function doneShape(graph: DagGraph, stepId: string): StepRecord {
  return { ...graph.shape(stepId)!, status: "done", finishedAt: new Date() };
}

/**
 * Whether the fast path can decide on starting this dependent (signals aside): no armed
 * before-breakpoint, and a placement that names no other step.
 */
function plain(step: StepRecord, meta: DagMeta): boolean {
  if (step.breakBefore.length > 0 && armed(meta)) return false;
  const mode = step.placement?.mode;
  return mode === undefined || mode === "direct";
}

/** Whether a step may hold its dependents at an after-breakpoint (its breakpoint state is not cached). */
function gatesDependents(step: StepRecord, meta: DagMeta): boolean {
  return step.breakAfter.length > 0 && armed(meta);
}

function armed(meta: DagMeta): boolean {
  return (meta.activeBreakpoints?.length ?? 0) > 0;
}
