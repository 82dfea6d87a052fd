/**
 * Helpers shared by every NATS integration test: skip (loudly) or fail when `nats-server` is missing,
 * and one fresh embedded node per test file.
 *
 * Reference: DESIGN.md §6 (integration tests start their own server on a random loopback port with a
 * temporary store; `EBIND_REQUIRE_NATS=1` turns a skip into a failure).
 * @module
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { findNatsServer, startNode, type NatsNode, type NodeOptions } from "../../src/embed/index.js";
import { NEW_NATS_VERSION, newNatsBinary, newNatsPath, newNatsRequired } from "./nats-latest.js";

/** Whether a `nats-server` executable was found (`NATS_SERVER_BIN`, then `PATH`). */
export function natsAvailable(): boolean {
  return findNatsServer() !== undefined;
}

/** Whether CI demands the NATS suites (`EBIND_REQUIRE_NATS=1`). */
export function natsRequired(): boolean {
  return process.env.EBIND_REQUIRE_NATS === "1";
}

/**
 * `describe(name, fn)` for suites that need a real `nats-server`.
 *
 * - server found → runs the suite;
 * - missing and `EBIND_REQUIRE_NATS=1` → registers one failing test saying why (CI fails loudly);
 * - missing otherwise → `describe.skip`, with a one-line warning on stderr naming the suite.
 */
export function describeNats(name: string, fn: () => void): void {
  if (natsAvailable()) {
    describe(name, fn);
    return;
  }
  if (natsRequired()) {
    describe(name, () => {
      it("requires nats-server", () => {
        throw new Error(
          `nats-server is required (EBIND_REQUIRE_NATS=1) but was not found on PATH or in NATS_SERVER_BIN; ` +
            `install it (apt-get install nats-server, or a release binary from the NATS project)`,
        );
      });
    });
    return;
  }
  process.stderr.write(`!!! nats-server not found: SKIPPING NATS suite "${name}"\n`);
  describe.skip(name, fn);
}

/**
 * `describe(name, fn)` for suites that need the newer nats-server (`newNatsBinary()` in ./nats-latest.ts).
 *
 * - built → runs the suite;
 * - missing and `EBIND_REQUIRE_NEW_NATS=1` → one failing test saying how to build it;
 * - missing otherwise → `describe.skip`, with a one-line warning on stderr naming the suite.
 */
export function describeNewNats(name: string, fn: () => void): void {
  if (newNatsBinary() !== undefined) {
    describe(name, fn);
    return;
  }
  if (newNatsRequired()) {
    describe(name, () => {
      it(`requires nats-server ${NEW_NATS_VERSION}`, () => {
        throw new Error(
          `nats-server ${NEW_NATS_VERSION} is required (EBIND_REQUIRE_NEW_NATS=1) but ${newNatsPath()} does not exist; ` +
            `build it with scripts/nats-server.sh (needs Go and the module proxy)`,
        );
      });
    });
    return;
  }
  process.stderr.write(`!!! nats-server ${NEW_NATS_VERSION} not built (scripts/nats-server.sh): SKIPPING suite "${name}"\n`);
  describe.skip(name, fn);
}

/**
 * Starts one fresh node for the current test file (random loopback port, temporary store dir) in
 * `beforeAll` and stops it in `afterAll`. Call at the top of a {@link describeNats} body.
 *
 * @param opts passed to `startNode` (e.g. a logger).
 * @returns a getter for the node; it throws if called before `beforeAll` ran.
 */
export function useNatsNode(opts: NodeOptions = {}): () => NatsNode {
  let node: NatsNode | undefined;
  beforeAll(async () => {
    node = await startNode(opts);
  });
  afterAll(async () => {
    await node?.stop();
    node = undefined;
  });
  return () => {
    if (node === undefined) throw new Error("useNatsNode: the node is not running (use it inside tests or hooks)");
    return node;
  };
}

/** Whether a process with this pid exists (signal 0 probe). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
