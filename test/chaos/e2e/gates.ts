/**
 * Gates of the cluster e2e suite: DAG steps that block until the test releases them, and side
 * effects the test can see, both through one replicated KV bucket, `e2e-gates` (R3).
 *
 * Why a KV key, polled: the worker holding a gate and the test are different processes, connected
 * to different nodes, and the suite kills nodes while gates are held. A key in an R3 bucket
 * survives the loss of any one node; a `get` every 100 ms needs no consumer to outlive a leader
 * change (a watch's would have to be re-created), tolerates failures while the worker's connection
 * moves (it just tries again), and a release written before a redelivered run of the gate starts is
 * seen by that run at once. The cost — up to 100 ms between the release and the gate opening — is
 * nothing next to the phases' waits.
 *
 * Keys: `release.<dagId>.<stepId>` (written by the test: the gate step opens), `effect.<key>`
 * (written by `e2e.eSideEffect`: the worker id that ran it).
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { KvBucket } from "../../../src/broker/index.js";

/** The bucket of gates and side effects. */
export const GATE_BUCKET = "e2e-gates";
/** How often a held gate reads its key, ms. */
export const GATE_POLL_MS = 100;
/** How long a side effect keeps trying to write its key (a node may be down meanwhile), ms. */
const RECORD_TIMEOUT_MS = 20_000;

const utf8 = new TextEncoder();

/** The key that opens gate step `stepId` of DAG `dagId`. */
export function releaseKey(dagId: string, stepId: string): string {
  return `release.${dagId}.${stepId}`;
}

/** The worker side: where this process's gates and side effects read and write. */
class GateSide {
  #kv: KvBucket | undefined;

  /** Binds the bucket (the worker process calls it once, before its worker starts). */
  use(kv: KvBucket): void {
    this.#kv = kv;
  }

  /**
   * Resolves once `release.<dagId>.<stepId>` exists; a failed read is tried again at the next poll.
   * @throws the signal's reason once it aborts (a cancel, a shutdown).
   */
  async wait(dagId: string, stepId: string, signal: AbortSignal): Promise<void> {
    const kv = this.#bucket();
    for (;;) {
      signal.throwIfAborted();
      const entry = await kv.get(releaseKey(dagId, stepId)).catch(() => null);
      if (entry !== null) return;
      await sleep(GATE_POLL_MS, undefined, { signal });
    }
  }

  /**
   * Writes `key` = `value`, trying again for up to 20 s while the write fails.
   * @throws the last error after 20 s.
   */
  async record(key: string, value: string): Promise<void> {
    const kv = this.#bucket();
    const deadline = Date.now() + RECORD_TIMEOUT_MS;
    for (;;) {
      try {
        await kv.put(key, utf8.encode(value));
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(GATE_POLL_MS);
      }
    }
  }

  #bucket(): KvBucket {
    if (this.#kv === undefined) throw new Error(`e2e gates: the bucket ${GATE_BUCKET} is not bound in this process (gateOpen.use)`);
    return this.#kv;
  }
}

/** This process's gate side (bound only in worker processes). */
export const gateOpen = new GateSide();

/** The test side: opens gate step `stepId` of DAG `dagId`. */
export async function releaseGate(kv: KvBucket, dagId: string, stepId: string): Promise<void> {
  await kv.put(releaseKey(dagId, stepId), utf8.encode("open"));
}

/** The test side: the worker id that ran side effect `key`, or undefined when it has not run. */
export async function sideEffect(kv: KvBucket, key: string): Promise<string | undefined> {
  const entry = await kv.get(`effect.${key}`);
  return entry === null ? undefined : new TextDecoder().decode(entry.value);
}
