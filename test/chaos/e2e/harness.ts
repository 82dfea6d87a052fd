/**
 * The cluster side of the e2e suite (reference §6.17 harness): a 3-node loopback cluster whose
 * server output is kept in a 200-line ring (printed when a phase fails), the meta leader, stream
 * leaders and replicas, and a deadline-bound wait that says what it waited for.
 * @module
 */
import type { JetStreamManager, StreamInfo } from "@nats-io/jetstream";
import { startCluster, type NatsCluster } from "../../../src/embed/index.js";
import { metaCluster } from "../../../src/embed/monitor.js";

/** Server output lines kept for a failure report. */
const RING_LINES = 200;

/**
 * Calls `probe` every `everyMs` until it returns something other than undefined.
 * @throws Error `<what> not reached within <ms> ms (last: <detail>)`, the detail being the probe's
 *   last error, or what `describe` says of the state it last saw.
 */
export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, describe?: () => string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
      last = describe?.() ?? "not yet";
    } catch (err) {
      last = `error: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (Date.now() >= deadline) throw new Error(`${what} not reached within ${timeoutMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A started e2e cluster and its log ring. */
export interface E2eCluster {
  readonly cluster: NatsCluster;
  /** The last 200 server output lines of all nodes, oldest first. */
  logTail(): string[];
}

/** Starts the 3-node cluster (startCluster retries port clashes itself) and waits for its quorum. */
export async function startE2eCluster(): Promise<E2eCluster> {
  const ring: string[] = [];
  const cluster = await startCluster({
    size: 3,
    name: "e2e",
    logger: (line) => {
      if (line.includes("Error trying to connect to route")) return; // a dead node's peers retry every second
      ring.push(line);
      if (ring.length > RING_LINES) ring.shift();
    },
  });
  try {
    await cluster.waitReady(30_000);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return { cluster, logTail: () => [...ring] };
}

/** Index of the node every running node names as the meta leader, or undefined while they disagree or have none. */
export async function metaLeader(cluster: NatsCluster): Promise<number | undefined> {
  const running = cluster.nodes.map((n, i) => ({ n, i })).filter(({ n }) => n.running);
  const leaders = await Promise.all(running.map(({ n }) => metaCluster(n.monitorUrl).then((m) => m?.leader ?? "")));
  const names = new Set(leaders);
  if (names.size !== 1) return undefined;
  const [name] = [...names];
  const idx = cluster.nodes.findIndex((n) => n.serverName === name);
  return idx >= 0 && cluster.nodes[idx]!.running ? idx : undefined;
}

/** Waits for a meta leader that all running nodes agree on (and that is not `not`). */
export function waitMetaLeader(cluster: NatsCluster, timeoutMs: number, not?: number): Promise<number> {
  return waitUntil(`a meta leader${not === undefined ? "" : ` other than node ${not}`}`, timeoutMs, async () => {
    const i = await metaLeader(cluster);
    return i === not ? undefined : i;
  });
}

/** The streams the suite runs on, including the KV buckets' streams (reference §6.17 00 and the leader bucket). */
export const E2E_STREAMS = ["EBIND_TASKS", "EBIND_RESP", "EBIND_DLQ", "EBIND_PARKED", "EBIND_DAG_EVENTS", "KV_ebind-dags", "KV_ebind-leader", "KV_e2e-gates"] as const;

/** A one-line summary of a stream's cluster placement: `leader [replica(current)…]`. */
export function placement(info: StreamInfo): string {
  const reps = (info.cluster?.replicas ?? []).map((r) => `${r.name}${r.current ? "" : "(behind)"}${r.offline ? "(offline)" : ""}`);
  return `${info.cluster?.leader ?? "no leader"} [${reps.join(" ")}] R${info.config.num_replicas}`;
}

/**
 * Waits until each of `streams` has a leader and `currentReplicas` replicas besides it that are
 * current (at most its replicas less one); returns the time it took, ms.
 */
export async function waitStreamsLed(jsm: JetStreamManager, streams: readonly string[], currentReplicas: number, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  const seen = new Map<string, string>();
  await waitUntil(
    `leaders with ${currentReplicas} current replicas for ${streams.join(", ")}`,
    timeoutMs,
    async () => {
      let ok = true;
      for (const name of streams) {
        const info = await jsm.streams.info(name).catch((err: unknown) => {
          seen.set(name, `error: ${(err as Error).message}`);
          return undefined;
        });
        if (info === undefined) {
          ok = false;
          continue;
        }
        seen.set(name, placement(info));
        const current = (info.cluster?.replicas ?? []).filter((r) => r.current && !r.offline).length;
        // An R1 stream (which it should not be: phase 00 says so) has no replicas to wait for.
        if (!info.cluster?.leader || current < Math.min(currentReplicas, info.config.num_replicas - 1)) ok = false;
      }
      return ok ? true : undefined;
    },
    () => [...seen].map(([n, p]) => `${n}: ${p}`).join("; "),
    200,
  );
  return Date.now() - t0;
}

/**
 * What a stream still holds and what its consumers say about it, for a failure message: up to 20
 * messages (`seq subject id dag/step`) and each consumer's counts, delivered sequence and ack floor;
 * with the task ids found, the message count, and how many deliveries the consumers still owe
 * (pending plus ack pending, summed).
 */
export async function describeLeftovers(jsm: JetStreamManager, stream: string): Promise<{ text: string; ids: string[]; messages: number; pending: number }> {
  const ids: string[] = [];
  let pending = 0;
  const info = await jsm.streams.info(stream);
  const out: string[] = [`${stream}: ${info.state.messages} messages (seq ${info.state.first_seq}..${info.state.last_seq}), ${placement(info)}`];
  for (let seq = info.state.first_seq, n = 0; seq <= info.state.last_seq && n < 20; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m === null) continue;
    n++;
    let what = "";
    try {
      const t = m.json<{ id?: string; dag_id?: string; step_id?: string; target?: string; attempt?: number }>();
      if (t.id !== undefined) ids.push(t.id);
      what = `${t.id ?? "?"} ${t.dag_id ?? "-"}/${t.step_id ?? "-"} target=${t.target ?? "-"} attempt=${t.attempt ?? "?"}`;
    } catch {
      what = `${m.data.length} bytes, not JSON`;
    }
    out.push(`  #${seq} ${m.subject} ${what} stored ${m.time.toISOString()}`);
  }
  for await (const c of jsm.consumers.list(stream)) {
    pending += c.num_pending + c.num_ack_pending;
    out.push(
      `  consumer ${c.name} (${c.config.filter_subject ?? "all"}): pending ${c.num_pending}, ack pending ${c.num_ack_pending}, redelivered ${c.num_redelivered}, ` +
        `delivered up to seq ${c.delivered.stream_seq}, ack floor seq ${c.ack_floor.stream_seq}, waiting pulls ${c.num_waiting}, leader ${c.cluster?.leader ?? "none"}`,
    );
  }
  return { text: out.join("\n"), ids, messages: info.state.messages, pending };
}
