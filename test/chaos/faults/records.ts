/**
 * Terminal records of a fault run, counted: every write of a DAG step's result key (seen live by a
 * KV watch; results are create-only, so a step has exactly one), and the responses stored per task
 * (`EBIND_RESP` keeps every response, one subject per task). Free of vitest.
 * @module
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { RESPONSE_STREAM } from "../../../src/broker/index.js";
import type { ChaosApp } from "./app.js";

/** A live count of result-key writes of DAGs whose id starts with `<prefix>-`. */
export interface ResultWatch {
  /** `<dagId>.result.<stepId>` → number of PUTs seen. */
  readonly puts: Map<string, number>;
  /** Times the watch ended or failed and was opened again (a write in such a gap could be missed). */
  readonly gaps: string[];
  /** Stops the watch; resolves when it has ended. */
  stop(): Promise<void>;
}

/**
 * Watches the DAG bucket for result writes of DAGs `<prefix>-*` until {@link ResultWatch.stop}.
 * A watch that fails (e.g. every node down) is opened again for new writes only, and the gap is
 * recorded in `gaps`: a duplicate written inside a gap would go unseen, so a test should say so.
 */
export function watchResults(app: ChaosApp, prefix: string): ResultWatch {
  const puts = new Map<string, number>();
  const gaps: string[] = [];
  const abort = new AbortController();
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-[^.]+\\.result\\.`);
  const loop = (async () => {
    let include: "all" | "updates" = "all";
    while (!abort.signal.aborted) {
      try {
        for await (const e of app.kv.watch({ key: ">", include, signal: abort.signal })) {
          if (e.operation === "PUT" && pattern.test(e.key)) puts.set(e.key, (puts.get(e.key) ?? 0) + 1);
        }
        if (!abort.signal.aborted) gaps.push(`watch ended at ${new Date().toISOString()}`);
      } catch (err) {
        if (!abort.signal.aborted) gaps.push(`watch failed at ${new Date().toISOString()}: ${String(err)}`);
      }
      include = "updates";
      if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    puts,
    gaps,
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

/**
 * Result keys of `dagIds` × `stepIds` not written exactly once: `key=<count>` (0 for missing), plus
 * any written result key of those DAGs for another step.
 */
export function resultWriteProblems(puts: ReadonlyMap<string, number>, dagIds: readonly string[], stepIds: readonly string[]): string[] {
  const expected = new Set(dagIds.flatMap((d) => stepIds.map((s) => `${d}.result.${s}`)));
  const out: string[] = [];
  for (const key of expected) {
    const n = puts.get(key) ?? 0;
    if (n !== 1) out.push(`${key}=${n}`);
  }
  const dags = new Set(dagIds);
  for (const [key, n] of puts) if (!expected.has(key) && dags.has(key.slice(0, key.indexOf(".result.")))) out.push(`${key}=${n} (unexpected)`);
  return out.sort();
}

/** Responses stored for each of `taskIds` of the app's client: the ids with a count other than 1, as `id=<count>`. */
export async function responseCountProblems(app: ChaosApp, taskIds: readonly string[]): Promise<string[]> {
  const jsm = await jetstreamManager(app.broker.connection);
  const prefix = `RESP.${app.client.id}.`;
  const info = await jsm.streams.info(RESPONSE_STREAM, { subjects_filter: `${prefix}>` });
  const counts = new Map<string, number>();
  for (const [subject, n] of Object.entries(info.state.subjects ?? {})) counts.set(subject.slice(prefix.length), n);
  const out: string[] = [];
  for (const id of taskIds) {
    const n = counts.get(id) ?? 0;
    if (n !== 1) out.push(`${id}=${n}`);
  }
  return out.sort();
}
