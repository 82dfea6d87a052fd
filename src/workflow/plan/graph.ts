/**
 * Validation of a dependency graph before it is written (reference §1.7.6, §3.10). Pure.
 * @module
 */
import { WorkflowError } from "../model/errors.js";

/** The part of a step that {@link validateGraph} looks at. */
export interface GraphNode {
  readonly id: string;
  readonly deps: readonly string[];
  readonly optionalDeps: readonly string[];
}

/**
 * Checks that a set of steps forms a DAG: every dependency (required or optional) names a step of
 * the set or of `known` (steps already in the DAG, for dynamic steps), and no cycle runs through the
 * set (edges to `known` steps cannot close one). Iterative depth-first search: a chain of 50,000 steps
 * is fine.
 * @param steps the new steps, each with its required and optional dependencies.
 * @param known ids of steps that already exist.
 * @throws {WorkflowError} `duplicate_step` (`workflow: duplicate step id "<id>"`) when an id repeats
 *   or is already known; `invalid` (`workflow: step "<a>" references unknown step "<b>"`);
 *   `cycle` (`workflow: cycle detected: <a> ↔ <b>` for two steps that depend on each other, otherwise
 *   the path along dependency edges, `workflow: cycle detected: a → b → c → a`).
 */
export function validateGraph(steps: ReadonlyArray<GraphNode>, known: ReadonlySet<string> = new Set()): void {
  const byId = new Map<string, GraphNode>();
  for (const s of steps) {
    if (byId.has(s.id) || known.has(s.id)) throw new WorkflowError("duplicate_step", `workflow: duplicate step id ${JSON.stringify(s.id)}`);
    byId.set(s.id, s);
  }
  const edges = new Map<string, string[]>();
  for (const s of steps) {
    const out: string[] = [];
    for (const dep of [...s.deps, ...s.optionalDeps]) {
      if (byId.has(dep)) out.push(dep);
      else if (!known.has(dep)) {
        throw new WorkflowError("invalid", `workflow: step ${JSON.stringify(s.id)} references unknown step ${JSON.stringify(dep)}`);
      }
    }
    edges.set(s.id, out);
  }
  // 0 = unvisited, 1 = on the current path, 2 = done.
  const color = new Map<string, 1 | 2>();
  for (const root of steps) {
    if (color.has(root.id)) continue;
    const path: string[] = [root.id];
    const next: number[] = [0];
    color.set(root.id, 1);
    while (path.length > 0) {
      const top = path.length - 1;
      const id = path[top] as string;
      const out = edges.get(id) as string[];
      const i = next[top] as number;
      if (i >= out.length) {
        color.set(id, 2);
        path.pop();
        next.pop();
        continue;
      }
      next[top] = i + 1;
      const dep = out[i] as string;
      const c = color.get(dep);
      if (c === 1) throw cycleError(path.slice(path.indexOf(dep)));
      if (c === undefined) {
        color.set(dep, 1);
        path.push(dep);
        next.push(0);
      }
    }
  }
}

function cycleError(cycle: string[]): WorkflowError {
  const [a, b] = cycle;
  const text = cycle.length === 2 ? `${a} ↔ ${b}` : [...cycle, a].join(" → ");
  return new WorkflowError("cycle", `workflow: cycle detected: ${text}`);
}
