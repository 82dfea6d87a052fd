/**
 * One ebctl run's shared state: the global flags, the printer, and the NATS connection and workflow
 * layer, each opened on first use (reference §4.1: the workflow layer only by `dag …` commands) and
 * closed when the command ends.
 * @module
 */
import { connectNats, type NatsBroker } from "../nats/index.js";
import { silentLogger } from "../broker/index.js";
import { Workflow } from "../workflow/index.js";
import { confirm } from "./confirm.js";
import { resolveConnection, type ConnectionFlags } from "./connection.js";
import { CliError } from "./errors.js";
import type { CliIo } from "./io.js";
import { parseOutputFormat, Printer } from "./output.js";
import { parseDuration } from "./format.js";

/** The global flags (reference §4.1) as commander hands them over. */
export interface GlobalFlags extends ConnectionFlags {
  readonly output?: string | undefined;
  readonly timeout?: string | undefined;
  readonly yes?: boolean | undefined;
  readonly verbose?: boolean | undefined;
  readonly replicas?: string | undefined;
}

/** The default of `--timeout`: connect timeout (reference §4.1). */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The longest `--timeout` (Node's timers hold 2^31-1 ms, about 596 h). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** What a command runs with. */
export class Session {
  readonly printer: Printer;
  readonly timeoutMs: number;
  /** `--replicas`; absent: the workflow layer follows the task stream's replicas. */
  readonly replicas: number | undefined;
  #broker: Promise<NatsBroker> | undefined;
  #workflow: Promise<Workflow> | undefined;

  /** @throws CliError for a bad `-o`, `--timeout` or `--replicas`. */
  constructor(
    readonly io: CliIo,
    readonly flags: GlobalFlags,
  ) {
    this.printer = new Printer(parseOutputFormat(flags.output), io.stdout);
    const t = flags.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(flags.timeout);
    if (!(t > 0)) throw new CliError(`--timeout must be positive, got "${flags.timeout ?? ""}"`);
    // Node's timers hold 2^31-1 ms; a longer one fires at once.
    if (t > MAX_TIMEOUT_MS) throw new CliError(`--timeout must be at most 596h31m23s, got "${flags.timeout ?? ""}"`);
    this.timeoutMs = t;
    if (flags.replicas !== undefined) {
      const r = Number(flags.replicas);
      if (!Number.isInteger(r) || r < 1) throw new CliError(`--replicas must be an integer ≥ 1, got "${flags.replicas}"`);
      this.replicas = r;
    }
  }

  #followMode = false;

  /**
   * Marks this run as long-lived (`… watch`, `ui`): its connection reconnects for as long as it
   * takes instead of giving up after 3 attempts (reference §4.1's limit, meant for one-shot
   * commands). Call before the first {@link broker}.
   */
  follow(): void {
    this.#followMode = true;
  }

  /** The connection, opened on first call. @throws EbindError `connect <url>: …` when no server answers. */
  broker(): Promise<NatsBroker> {
    if (!this.#broker) {
      // Resolved once: it may read a nats context file.
      const options = resolveConnection(this.flags, this.io.env, this.timeoutMs);
      this.#broker = connectNats(this.#followMode ? { ...options, maxReconnectAttempts: -1 } : options);
    }
    return this.#broker;
  }

  /**
   * Resolves when the run's signal aborts (SIGINT/SIGTERM in the bin); never when the run has no
   * signal. Long-lived commands (`… watch`, `ui`) wait on it.
   */
  stopped(): Promise<void> {
    const signal = this.io.signal;
    return new Promise((resolve) => {
      if (!signal) return;
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  /**
   * For a long-lived command whose loop just ended on its own (not by the run's signal): fails with
   * `lost the connection to NATS: …` when the connection has closed for good, else returns (the
   * loop ended for its own reasons). A watch must not end silently with status 0 when NATS went away.
   */
  async failIfLost(): Promise<void> {
    if (this.#closing || this.io.signal?.aborted || !this.#broker) return;
    const broker = await this.#broker;
    const closed = broker.connection.closed().then((err) => ({ err }));
    const outcome = await Promise.race([closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
    if (outcome !== undefined) throw new CliError(`lost the connection to NATS${outcome.err ? `: ${outcome.err.message}` : ""}`);
  }

  #closing = false;

  /** The workflow layer (KV bucket + events stream, created when missing), opened on first call. */
  workflow(): Promise<Workflow> {
    this.#workflow ??= this.broker().then((b) => Workflow.create(b, { replicas: this.replicas, logger: silentLogger }));
    return this.#workflow;
  }

  /** Asks before a destructive operation (see {@link confirm}). */
  confirm(text: string): Promise<void> {
    return confirm(this.io, this.flags.yes === true, text);
  }

  /** Closes what was opened. Idempotent. */
  async close(): Promise<void> {
    this.#closing = true;
    const wf = this.#workflow;
    const broker = this.#broker;
    this.#workflow = undefined;
    this.#broker = undefined;
    if (wf) (await wf.catch(() => undefined))?.close();
    if (broker) await (await broker.catch(() => undefined))?.close();
  }
}
