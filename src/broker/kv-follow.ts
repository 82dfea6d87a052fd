/**
 * Following a KV bucket's changes for as long as a process runs: one watch of updates, reopened
 * after a failure (the entries changed meanwhile may be read again through `onReopen`), ended by a
 * signal or by the broker closing. Used by workers for paused task names and by the workflow for
 * canceled DAGs.
 * @module
 */
import { EbindError } from "../task/errors.js";
import type { Logger } from "./logger.js";
import type { KvBucket, KvEntry } from "./port.js";

/** Wait before reopening a watch that ended. */
const REOPEN_MS = 1000;

/** Options of {@link followKv}. */
export interface FollowKvOptions {
  /** Key or wildcard pattern. @default every key */
  readonly key?: string | undefined;
  /** Called with every change, in order. Must not throw. */
  readonly onEntry: (entry: KvEntry) => void;
  /** Called after a reopened watch is established, to catch up on what changed while it was down. */
  readonly onReopen?: (() => Promise<void>) | undefined;
  /** Ends the following. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** What is followed, for the warning when the watch fails (`"the watch of paused task names"`). */
  readonly what: string;
}

/**
 * Starts following; resolves once the first watch is established (changes from then on are seen).
 * @throws the backend's error when the first watch cannot be opened.
 */
export function followKv(kv: KvBucket, options: FollowKvOptions): Promise<void> {
  const { signal, logger, what } = options;
  return new Promise<void>((resolve, reject) => {
    let established = false;
    const loop = async (): Promise<void> => {
      for (let opened = 0; ; opened++) {
        try {
          const changes = kv.watch({
            key: options.key,
            include: "updates",
            signal,
            onReady: () => {
              if (!established) resolve();
              established = true;
              if (opened > 0) void options.onReopen?.().catch(() => undefined);
            },
          });
          for await (const entry of changes) options.onEntry(entry);
        } catch (err) {
          if (!established) return reject(err instanceof Error ? err : new Error(String(err)));
          if (err instanceof EbindError && err.code === "closed") return;
          logger.warn({ error: (err as Error).message }, `${what} failed; reopening it`);
        }
        if (signal.aborted) return;
        if (!established) return reject(new EbindError("unavailable", `${what} ended before it was established`));
        await new Promise((r) => setTimeout(r, REOPEN_MS).unref());
        if (signal.aborted) return;
      }
    };
    void loop();
  });
}
