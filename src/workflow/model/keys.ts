/**
 * KV keys of bucket `ebind-dags` (reference §2.7) and the checks that keep DAG and step ids usable
 * as one KV key token and one subject token: letters, digits, `-`, `_`, `=` (no dots, reference
 * §8.3 item 5).
 * @module
 */
import { b64url, validateKeyToken } from "../../task/names.js";

/** The KV bucket of workflow state. */
export const DAG_BUCKET = "ebind-dags";

/** `<dag>.meta`. */
export function metaKey(dagId: string): string {
  return `${dagId}.meta`;
}

/** `<dag>.step.<step>`. */
export function stepKey(dagId: string, stepId: string): string {
  return `${dagId}.step.${stepId}`;
}

/** `<dag>.result.<step>`. */
export function resultKey(dagId: string, stepId: string): string {
  return `${dagId}.result.${stepId}`;
}

/** `<dag>.signal.<b64url(name)>`. */
export function signalKey(dagId: string, name: string): string {
  return `${dagId}.signal.${b64url(name)}`;
}

/**
 * Checks a DAG id.
 * @throws EbindError `invalid_argument` naming the id and the rule.
 */
export function validateDagId(id: string): void {
  validateKeyToken(id, "DAG id");
}

/**
 * Checks a step id.
 * @throws EbindError `invalid_argument` naming the id and the rule.
 */
export function validateStepId(id: string): void {
  validateKeyToken(id, "step id");
}

/** The task id (and message id prefix) of a step: `<dag>:<step>` (reference §3.11). */
export function stepTaskId(dagId: string, stepId: string): string {
  return `${dagId}:${stepId}`;
}
