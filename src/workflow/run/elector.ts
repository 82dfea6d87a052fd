/**
 * Leader election for the repair sweep (reference §1.7.1 `LeaderElector`, §3.15): every scheduler
 * handles events, but only the leader sweeps. {@link KvLeaderElector} holds a lease in a KV key,
 * renewed by compare-and-set; a lease not renewed within `leaseMs` may be taken over.
 * @module
 */
import type { Logger } from "../../broker/logger.js";
import type { Broker, KvBucket } from "../../broker/port.js";
import { deploymentReplicas } from "../../broker/topology.js";
import { EbindError } from "../../task/errors.js";

/** Tells a scheduler whether it leads. */
export interface LeaderElector {
  /** Whether this process leads now. */
  isLeader(): boolean;
  /** Starts campaigning; idempotent. */
  start(): Promise<void>;
  /** Steps down and stops; idempotent. */
  stop(): Promise<void>;
}

/** An elector for a single scheduler: always the leader. */
export const alwaysLeader: LeaderElector = {
  isLeader: () => true,
  start: async () => {},
  stop: async () => {},
};

/** The KV bucket of leases. */
export const LEADER_BUCKET = "ebind-leader";

/** Options of {@link KvLeaderElector}. */
export interface KvLeaderElectorOptions {
  /** This candidate's id (any string). */
  readonly id: string;
  /** The lease key; candidates for one role share it. @default "scheduler" */
  readonly key?: string | undefined;
  /** A lease not renewed for this long may be taken. Renewals happen every third of it. @default 15000 */
  readonly leaseMs?: number | undefined;
  /**
   * Replicas of the bucket `ebind-leader` when this creates it, or raises it to (an existing bucket
   * with fewer is scaled up). With fewer replicas than the deployment, losing the node holding it
   * would leave every scheduler without a leader. @default the task stream's replicas
   */
  readonly replicas?: number | undefined;
  readonly logger?: Logger | undefined;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/**
 * Lease-based election on a KV key. The holder renews with compare-and-set on the revision it
 * wrote; a challenger takes the key over by compare-and-set when the lease has not been renewed
 * for `leaseMs` (measured on the challenger's clock against the entry's server timestamp, so large
 * clock skew between hosts delays or hastens takeovers by that skew).
 */
export class KvLeaderElector implements LeaderElector {
  readonly #id: string;
  readonly #key: string;
  readonly #leaseMs: number;
  readonly #replicas: number | undefined;
  #kv: KvBucket | undefined;
  #leader = false;
  #revision = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly broker: Broker,
    options: KvLeaderElectorOptions,
  ) {
    this.#id = options.id;
    this.#key = options.key ?? "scheduler";
    this.#leaseMs = options.leaseMs ?? 15_000;
    if (!Number.isFinite(this.#leaseMs) || this.#leaseMs < 100) {
      throw new EbindError("invalid_argument", `elector.leaseMs must be a number of ms ≥ 100, got ${String(options.leaseMs)}`);
    }
    this.#replicas = options.replicas;
    this.logger = options.logger;
  }

  private readonly logger: Logger | undefined;

  isLeader(): boolean {
    return this.#leader;
  }

  async start(): Promise<void> {
    if (this.#kv) return;
    const replicas = this.#replicas ?? (await deploymentReplicas(this.broker));
    this.#kv = await this.broker.kv(LEADER_BUCKET, { history: 1, replicas });
    await this.#tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#leader && this.#kv) {
      this.#leader = false;
      await this.#kv.delete(this.#key, { expectedRevision: this.#revision }).catch(() => undefined);
    }
  }

  async #tick(): Promise<void> {
    try {
      await this.#campaign();
    } catch (err) {
      if (this.#leader) this.logger?.warn({ error: (err as Error).message }, "elector: lease renewal failed; stepping down");
      this.#leader = false;
    }
    if (!this.#stopped) {
      this.#timer = setTimeout(() => void this.#tick(), Math.max(50, Math.floor(this.#leaseMs / 3)));
      this.#timer.unref();
    }
  }

  async #campaign(): Promise<void> {
    const kv = this.#kv!;
    const mine = utf8.encode(this.#id);
    if (this.#leader) {
      this.#revision = await kv.update(this.#key, mine, this.#revision);
      return;
    }
    const current = await kv.get(this.#key);
    if (current === null) {
      try {
        this.#revision = await kv.create(this.#key, mine);
        this.#leader = true;
      } catch (err) {
        if (!(err instanceof EbindError && err.code === "conflict")) throw err;
      }
      return;
    }
    const holder = text.decode(current.value);
    const stale = Date.now() - current.createdAt.getTime() > this.#leaseMs;
    if (holder === this.#id || stale) {
      try {
        this.#revision = await kv.update(this.#key, mine, current.revision);
        this.#leader = true;
      } catch (err) {
        if (!(err instanceof EbindError && err.code === "conflict")) throw err;
      }
    }
  }
}
