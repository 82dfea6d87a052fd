/**
 * Delivering and listing signals (reference §3.21). A signal is a create-only KV record (the first
 * delivery wins and keeps its payload), followed always by a `signal` event; it is buffered: a step
 * that waits for it later — added dynamically, or submitted later under a pinned id — finds it.
 * @module
 */
import { findUnfaithfulJson } from "../../task/json-safe.js";
import { signalNameOf, type SignalDef, type SignalName } from "../build/signals.js";
import { WorkflowError } from "../model/errors.js";
import { stringifyJson } from "../../task/json-safe.js";
import { validateJson } from "../../task/rawjson.js";
import { validateDagId } from "../model/keys.js";
import { computeSignals, type SignalInfo } from "../plan/index.js";
import type { WorkflowCore } from "../store/core.js";
import { publishEvent } from "../store/events.js";

/** Bytes of the server's max payload a signal leaves free: its record's fields, and the rest of the step's task. */
const SIGNAL_HEADROOM_BYTES = 32 * 1024;

/** Options of a signal. */
export interface SignalOptions {
  /**
   * Deliver it even though no DAG has this id yet: it waits for a DAG submitted later under this
   * pinned id. Without it an unknown DAG is `dag_not_found` (a typo would otherwise be kept forever).
   * @default false
   */
  readonly early?: boolean | undefined;
  /**
   * The payload as JSON text, stored exactly as given (surrounding whitespace trimmed): for tools
   * such as `ebctl dag signal` that hold JSON text, whose numbers must not be rounded by a parse
   * (a 39-digit integer stays as it is). Replaces the `payload` argument, which must then be
   * `undefined`; only for a signal sent by its plain name (no schema runs on text).
   * @throws WorkflowError `invalid` when it is not one JSON value, or given with a payload or a
   *   signal definition.
   */
  readonly payloadJson?: string | undefined;
}

/**
 * Delivers signal `signal` with `payload` to DAG `dagId`.
 * @param payload any JSON value (`undefined` is delivered as `null`); with a definition that has a
 *   schema, the schema's input: what is stored and delivered is the schema's output. Sent by its
 *   plain name, a signal skips the definition's schema.
 * @returns true when this call delivered it; false when it had been delivered before (the first
 *   payload stays) or the DAG has finished (nothing is written).
 * @throws EbindError `invalid_argument` for a malformed DAG id; WorkflowError `invalid` for an empty
 *   or too long name, a payload JSON cannot carry (naming the path), one larger than the server's
 *   max payload allows, or one the schema refuses (listing the issues) — nothing is written;
 *   `dag_not_found` for an unknown DAG without `early`.
 */
export async function sendSignal(core: WorkflowCore, dagId: string, signal: SignalName, payload: unknown, options: SignalOptions = {}): Promise<boolean> {
  validateDagId(dagId);
  const name = signalNameOf(signal, `signal to DAG ${dagId}`);
  const where = `workflow: signal ${JSON.stringify(name)} to DAG ${dagId}`;
  let value = payload === undefined ? null : payload;
  const schema = typeof signal === "string" ? undefined : (signal as SignalDef<unknown, unknown>).schema;
  if (schema) {
    const checked = await schema["~standard"].validate(value);
    if (checked.issues) {
      const issues = checked.issues.map((i) => {
        const path = (i.path ?? []).map((p) => (typeof p === "object" && p !== null ? String(p.key) : String(p))).join(".");
        return path ? `${path}: ${i.message}` : i.message;
      });
      throw new WorkflowError("invalid", `${where}: payload refused by its schema: ${issues.join("; ")}`);
    }
    value = checked.value === undefined ? null : checked.value; // what steps receive: the schema's output
  }
  let json: string;
  if (options.payloadJson !== undefined) {
    if (payload !== undefined || typeof signal !== "string") throw new WorkflowError("invalid", `${where}: payloadJson replaces the payload and needs a plain signal name`);
    try {
      validateJson(options.payloadJson);
    } catch (err) {
      throw new WorkflowError("invalid", `${where}: payloadJson is not one JSON value: ${(err as Error).message}`);
    }
    json = options.payloadJson.trim();
  } else {
    const problem = findUnfaithfulJson(value, "payload");
    if (problem !== undefined) throw new WorkflowError("invalid", `${where}: ${problem}`);
    json = stringifyJson(value) ?? "null"; // keeps a -0
  }
  const limit = core.broker.maxPayloadBytes - SIGNAL_HEADROOM_BYTES;
  const bytes = Buffer.byteLength(json);
  if (bytes > limit) {
    throw new WorkflowError("invalid", `${where}: payload of ${bytes} bytes is more than the ${limit} bytes a signal may use (it travels inside the step's task); pass large data by reference`);
  }
  const meta = await core.store.getMeta(dagId);
  if (!meta && !options.early) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId} (to signal a DAG before it is submitted, pass { early: true })`);
  const status = meta?.value.status;
  if (status === "done" || status === "failed" || status === "canceled") return false;
  let delivered = true;
  try {
    await core.store.createSignal({ dagId, name, payload: json, deliveredAt: new Date() });
  } catch (err) {
    if (!(err instanceof WorkflowError && err.code === "stale_revision")) throw err;
    delivered = false;
  }
  if (meta) {
    await publishEvent(core.broker, { kind: "signal", dagId, stepId: dagId, signalName: name }).catch((err: unknown) =>
      core.logger.warn({ dag_id: dagId, signal: name, error: (err as Error).message }, "workflow: signal stored but its event not published; the sweep will start what waits for it"),
    );
  }
  return delivered;
}

/**
 * The DAG's signals: every name delivered or awaited, sorted, with payloads and the steps waiting.
 * @throws EbindError `invalid_argument` for a malformed id; WorkflowError `dag_not_found`.
 */
export async function listSignals(core: WorkflowCore, dagId: string): Promise<SignalInfo[]> {
  validateDagId(dagId);
  const meta = await core.store.getMeta(dagId);
  if (!meta) throw new WorkflowError("dag_not_found", `workflow: DAG not found: ${dagId}`);
  const [steps, signals] = await Promise.all([core.store.listSteps(dagId), core.store.listSignals(dagId)]);
  return computeSignals({ meta: meta.value, steps: new Map(steps.map((s) => [s.value.stepId, s.value])), signals: new Map(signals.map((s) => [s.name, s])) });
}
