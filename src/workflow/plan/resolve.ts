/**
 * Argument resolution at enqueue time (reference §3.13 `ResolveArgs`). Pure.
 * @module
 */
import { parseArgs, type ArgSlot } from "../model/codec.js";
import { TaskError } from "../../task/errors.js";
import { WorkflowError } from "../model/errors.js";
import { isTerminal, type StepStatus } from "../model/records.js";

/** What {@link resolveArgs} reads about the rest of the DAG. */
export interface ResolveLookup {
  /** The status of a step, `undefined` when there is no such step. */
  status(stepId: string): StepStatus | undefined;
  /** A step's stored result (raw JSON); `undefined` when none is stored. */
  result(stepId: string): string | undefined;
  /** A delivered signal's raw payload; `undefined` when the signal was not delivered. */
  signal(name: string): string | undefined;
}

/** The outcome of {@link resolveArgs}: skip the step (cascade), or run it with this payload. */
export type ResolvedArgs = { readonly skip: true } | { readonly skip: false; readonly payload: string };

function invalid(message: string, cause?: unknown): WorkflowError {
  return new WorkflowError("invalid", `workflow: ResolveArgs: ${message}`, { cause });
}

function nullIfEmpty(raw: string | undefined): string {
  const t = raw?.trim() ?? "";
  return t === "" ? "null" : t;
}

/**
 * Resolves a step's `args_json` into the task payload (reference §3.13), element by element:
 * - a literal is copied byte for byte (a 39-digit integer survives);
 * - a signal placeholder becomes the delivered payload (`null` when empty); not delivered → error
 *   `ResolveArgs: signal "<n>" not delivered`;
 * - a ref to a `done` upstream becomes its result; a missing or empty result (a handler that returned
 *   nothing — reference §8.3 item 4, fixed) becomes `null`;
 * - a ref to a failed, skipped or canceled upstream: mode `required` → `{ skip: true }`; `or_default`
 *   → its default, or `null` without one;
 * - a ref to a step that is not terminal (or unknown: status shown empty) → error
 *   `ResolveArgs: upstream "<id>" not terminal (status=<s>)`.
 *
 * @returns `{ skip: true }`, or `{ skip: false, payload }` with the payload as a raw JSON array text.
 * @throws {WorkflowError} `invalid`, message `workflow: ResolveArgs: …` as above, or for malformed
 *   arguments (the decode error as `cause`).
 */
export function resolveArgs(argsJson: string, lookup: ResolveLookup): ResolvedArgs {
  let slots: ArgSlot[];
  try {
    slots = parseArgs(argsJson);
  } catch (e) {
    throw invalid(e instanceof TaskError ? e.detail : e instanceof Error ? e.message : String(e), e);
  }
  const out: string[] = [];
  for (const slot of slots) {
    switch (slot.kind) {
      case "literal":
        out.push(slot.raw);
        break;
      case "signal": {
        const payload = lookup.signal(slot.signal.name);
        if (payload === undefined) throw invalid(`signal ${JSON.stringify(slot.signal.name)} not delivered`);
        out.push(nullIfEmpty(payload));
        break;
      }
      case "ref": {
        const { stepId, mode, defaultJson } = slot.ref;
        const status = lookup.status(stepId);
        if (status === "done") {
          out.push(nullIfEmpty(lookup.result(stepId)));
        } else if (status !== undefined && isTerminal(status)) {
          if (mode === "required") return { skip: true };
          out.push(nullIfEmpty(defaultJson));
        } else {
          throw invalid(`upstream ${JSON.stringify(stepId)} not terminal (status=${status ?? ""})`);
        }
        break;
      }
    }
  }
  return { skip: false, payload: `[${out.join(",")}]` };
}
