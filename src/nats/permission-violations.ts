/**
 * The server's permissions violations, as the connection's status events report them. A request
 * the user may not publish fails in the client at once, but a pull does not: its request is a plain
 * publish whose refusal reaches only the status stream, so the pull would wait out its expiry and
 * end as an empty one, again and again, the worker saying nothing. The pull (pull.ts) listens here
 * for a refusal of its own `$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>` and fails with it.
 * @module
 */
import { errors as coreErrors } from "@nats-io/transport-node";

/** Listener of {@link PermissionViolations}: the subject refused, and the server's words. */
export type ViolationListener = (violation: { readonly operation: "publish" | "subscription"; readonly subject: string; readonly error: Error }) => void;

/** Fans the connection's permissions violations out to whoever waits on one. */
export class PermissionViolations {
  readonly #listeners = new Set<ViolationListener>();

  /** Called with each status error; ignores anything but a permissions violation. */
  report(error: unknown): void {
    if (!(error instanceof coreErrors.PermissionViolationError)) return;
    const violation = { operation: error.operation, subject: error.subject, error };
    for (const listener of this.#listeners) listener(violation);
  }

  /** Calls `listener` for each violation until the returned function is called. */
  listen(listener: ViolationListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
