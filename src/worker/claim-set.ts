/**
 * The claims a running worker holds, refreshed in the background (reference §3.9): the concrete
 * `worker:<id>` always, plus the provider's. New claims get a consumer at once; consumers of dropped
 * claims are kept until shutdown, and stray deliveries for them are nak'ed for a current owner.
 * @module
 */
import type { Logger } from "../broker/logger.js";
import type { ClaimProvider } from "./claims.js";
import { concreteTarget, normalizeClaims } from "./claims.js";
import { validateTarget } from "../task/names.js";

/** Tracks the claim set and tells the worker when a claim is new. */
export class ClaimSet {
  #current: ReadonlySet<string>;
  readonly #concrete: string;
  #timer: NodeJS.Timeout | undefined;
  readonly #abort = new AbortController();

  constructor(
    workerId: string,
    private readonly provider: ClaimProvider | undefined,
    private readonly onNewClaim: (claim: string) => Promise<void>,
    private readonly logger: Logger,
  ) {
    this.#concrete = concreteTarget(workerId);
    this.#current = new Set();
  }

  /** Whether the worker holds `target` now. */
  holds(target: string): boolean {
    return this.#current.has(target);
  }

  /** The claims held now, sorted. */
  list(): string[] {
    return [...this.#current].sort();
  }

  /**
   * Seeds the set from the provider and opens a consumer per claim; an initial provider error is
   * thrown (the worker does not start).
   */
  async seed(): Promise<void> {
    const claims = await this.#fetch();
    await this.#apply(claims);
  }

  /** Starts refreshing every `intervalMs` (only when a provider is configured). */
  startRefresh(intervalMs: number): void {
    if (!this.provider) return;
    const tick = async (): Promise<void> => {
      try {
        await this.#apply(await this.#fetch());
      } catch (err) {
        this.logger.warn({ error: (err as Error).message }, "worker: claim refresh failed; keeping the previous claims");
      }
      if (!this.#abort.signal.aborted) this.#timer = setTimeout(() => void tick(), intervalMs);
    };
    this.#timer = setTimeout(() => void tick(), intervalMs);
  }

  /** Stops refreshing. */
  stop(): void {
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #fetch(): Promise<string[]> {
    const provided = this.provider ? await this.provider.claims(this.#abort.signal) : [];
    return normalizeClaims([this.#concrete, ...provided]).filter((claim) => {
      try {
        validateTarget(claim, "claim");
        return true;
      } catch (err) {
        // A claim no target can name (a lone surrogate, too long): held, it would take another's tasks or fail its consumer.
        this.logger.warn(`worker: ignoring a claim from the claim provider: ${(err as Error).message}`);
        return false;
      }
    });
  }

  async #apply(claims: readonly string[]): Promise<void> {
    const previous = this.#current;
    for (const claim of claims) if (!previous.has(claim)) await this.onNewClaim(claim);
    this.#current = new Set(claims);
  }
}
