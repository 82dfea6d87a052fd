/**
 * The harness of the broker contract suite: a backend factory, unique names, and waits that advance
 * a manual clock when the backend has one and sleep otherwise — so one test runs unchanged over the
 * memory backend (no sleeping) and a real nats-server (short real waits: ack waits of about 1 s;
 * NATS pull expiries are at least 1000 ms).
 *
 * Test code shipped for backend authors; excluded from the package build.
 * @module
 */
import { afterEach, beforeEach } from "vitest";
import type { ManualClock } from "../clock.js";
import type { Broker, ConsumerSpec, Delivery, KvEntry, StreamSpec } from "../port.js";

/** A backend under test. `clock` is set when the backend's time is a {@link ManualClock}. */
export interface ContractBackend {
  readonly broker: Broker;
  readonly clock?: ManualClock | undefined;
  close(): Promise<void>;
}

/** Makes a fresh backend (or a fresh connection to a shared server) for one test. */
export type BackendFactory = () => Promise<ContractBackend>;

let counter = 0;

/** What each contract test works with. */
export class Harness {
  readonly broker: Broker;
  readonly clock: ManualClock | undefined;
  /** A name unique to this test (upper-case letters and digits), used as stream name and subject root. */
  readonly id: string;

  constructor(backend: ContractBackend) {
    this.broker = backend.broker;
    this.clock = backend.clock;
    this.id = `C${process.pid.toString(36).toUpperCase()}${(counter++).toString(36).toUpperCase()}${Math.random().toString(36).slice(2, 7).toUpperCase()}`;
  }

  /** Lets `ms` pass: advances the manual clock, or sleeps. */
  async wait(ms: number): Promise<void> {
    if (this.clock) await this.clock.advance(ms);
    else await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Creates a stream named `<id><suffix>` capturing `<id><suffix>.>` unless subjects are given. */
  async stream(suffix: string, spec: Partial<StreamSpec> = {}): Promise<{ name: string; root: string }> {
    const name = `${this.id}${suffix}`;
    await this.broker.ensureStream({
      name,
      subjects: spec.subjects ?? [`${name}.>`],
      retention: spec.retention ?? "workqueue",
      maxAgeMs: spec.maxAgeMs ?? 0,
      replicas: 1,
      storage: "memory",
      duplicateWindowMs: spec.duplicateWindowMs,
    });
    return { name, root: name };
  }

  /** Creates (or updates) a durable with defaults: ack wait 1 s, unlimited deliveries. */
  async consumer(stream: string, durable: string, spec: Partial<ConsumerSpec> = {}): Promise<void> {
    await this.broker.ensureConsumer(stream, {
      durable,
      filterSubject: spec.filterSubject ?? "",
      ackWaitMs: spec.ackWaitMs ?? 1000,
      maxDeliver: spec.maxDeliver ?? -1,
      maxAckPending: spec.maxAckPending,
      deliverPolicy: spec.deliverPolicy,
    });
  }

  /** Publishes a UTF-8 string. */
  async publish(subject: string, text: string, msgId?: string): Promise<{ seq: number; duplicate: boolean }> {
    const ack = await this.broker.publish(subject, new TextEncoder().encode(text), { msgId, timeoutMs: 2000 });
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  /**
   * One pull of up to `max` deliveries. It ends as soon as `max` arrived; otherwise after
   * `expiresMs` (on the manual clock: advanced by exactly that much).
   */
  async take(stream: string, durable: string, max: number, expiresMs = 1000, signal?: AbortSignal): Promise<Delivery[]> {
    const out: Delivery[] = [];
    let settled = false;
    const done = (async () => {
      try {
        for await (const d of this.broker.pull(stream, durable, { max, expiresMs, signal })) out.push(d);
      } finally {
        settled = true;
      }
    })();
    done.catch(() => undefined); // awaited below; this only marks a rejection as handled meanwhile
    if (this.clock) {
      await this.clock.advance(0);
      if (!settled) await this.clock.advance(expiresMs);
    }
    await done;
    return out;
  }

  /** Re-checks `probe` until it returns true: once on a manual clock (after settling), every 50 ms up to `withinMs` in real time. */
  async eventually(probe: () => Promise<boolean>, withinMs = 3000): Promise<boolean> {
    if (this.clock) {
      await this.clock.advance(0);
      return probe();
    }
    const deadline = Date.now() + withinMs;
    for (;;) {
      if (await probe()) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Starts reading a KV watch in the background. `next(n)` resolves with the first `n` entries
   * (rejecting after 5 s of real time when they do not come); `stop()` aborts the watch and resolves
   * when the iterator has ended.
   */
  watch(iterable: (signal: AbortSignal) => AsyncIterable<KvEntry>): WatchReader {
    const abort = new AbortController();
    const seen: KvEntry[] = [];
    let changed: (() => void) | undefined;
    const done = (async () => {
      for await (const e of iterable(abort.signal)) {
        seen.push(e);
        changed?.();
      }
    })();
    const clock = this.clock;
    return {
      entries: seen,
      async next(n: number): Promise<KvEntry[]> {
        const deadline = Date.now() + 5000;
        while (seen.length < n) {
          if (clock) {
            await clock.advance(0);
            if (seen.length < n) throw new Error(`watch: ${seen.length} of ${n} entries arrived`);
            break;
          }
          if (Date.now() > deadline) throw new Error(`watch: ${seen.length} of ${n} entries arrived within 5 s`);
          await new Promise<void>((resolve) => {
            changed = resolve;
            setTimeout(resolve, 100);
          });
        }
        return seen.slice(0, n);
      },
      async stop(): Promise<void> {
        abort.abort();
        if (clock) await clock.advance(0);
        await done;
      },
    };
  }
}

/** A watch being read by {@link Harness.watch}. */
export interface WatchReader {
  /** Every entry seen so far. */
  readonly entries: readonly KvEntry[];
  next(n: number): Promise<KvEntry[]>;
  stop(): Promise<void>;
}

/** Registers `beforeEach`/`afterEach` that make a fresh backend per test; returns the current harness. */
export function useHarness(make: BackendFactory): () => Harness {
  let backend: ContractBackend | undefined;
  let harness: Harness | undefined;
  beforeEach(async () => {
    backend = await make();
    harness = new Harness(backend);
  });
  afterEach(async () => {
    await backend?.close();
    backend = undefined;
    harness = undefined;
  });
  return () => {
    if (harness === undefined) throw new Error("contract harness used outside a test");
    return harness;
  };
}

/** UTF-8 text of bytes. */
export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/** UTF-8 bytes of text. */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
