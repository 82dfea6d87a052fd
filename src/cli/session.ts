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
  readonly replicas: number;
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
    const r = flags.replicas === undefined ? 1 : Number(flags.replicas);
    if (!Number.isInteger(r) || r < 1) throw new CliError(`--replicas must be an integer ≥ 1, got "${flags.replicas ?? ""}"`);
    this.replicas = r;
  }

  /** The connection, opened on first call. @throws EbindError `connect <url>: …` when no server answers. */
  broker(): Promise<NatsBroker> {
    this.#broker ??= connectNats(resolveConnection(this.flags, this.io.env, this.timeoutMs));
    return this.#broker;
  }

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
    const wf = this.#workflow;
    const broker = this.#broker;
    this.#workflow = undefined;
    this.#broker = undefined;
    if (wf) (await wf.catch(() => undefined))?.close();
    if (broker) await (await broker.catch(() => undefined))?.close();
  }
}
