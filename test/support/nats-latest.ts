/**
 * The newer nats-server the second CI leg runs on: the release `scripts/nats-server.sh` builds, found in
 * its cache folder. Suites that must run on it use `describeNewNats` (./nats.ts): skipped loudly when
 * it was not built, failing when `EBIND_REQUIRE_NEW_NATS=1` (as `EBIND_REQUIRE_NATS` does for any
 * server). No vitest import here: test/global-setup.ts reads it too.
 *
 * Build it with `scripts/nats-server.sh`; run every NATS suite on it with
 * `NATS_SERVER_BIN="$(scripts/nats-server.sh)" npm test` (or `npm run test:nats-latest`).
 * @module
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { isExecutableFile } from "../../src/embed/binary.js";

/** The release `scripts/nats-server.sh` builds by default (keep the two equal: a test checks it). */
export const NEW_NATS_VERSION = "v2.15.3";

/** Where `scripts/nats-server.sh` puts the binary: `${EBIND_CACHE_DIR:-$HOME/.cache/ebind}/nats-server/<version>/nats-server`. */
export function newNatsPath(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.EBIND_CACHE_DIR !== undefined && env.EBIND_CACHE_DIR !== "" ? env.EBIND_CACHE_DIR : join(homedir(), ".cache", "ebind");
  return join(cache, "nats-server", NEW_NATS_VERSION, "nats-server");
}

/** The newer server's binary, or undefined when `scripts/nats-server.sh` has not built it. */
export function newNatsBinary(): string | undefined {
  const path = newNatsPath();
  return isExecutableFile(path) ? path : undefined;
}

/** Whether CI demands the suites on the newer server (`EBIND_REQUIRE_NEW_NATS=1`). */
export function newNatsRequired(): boolean {
  return process.env.EBIND_REQUIRE_NEW_NATS === "1";
}
