/**
 * Vitest global setup: says once, at the start of the run, whether the NATS integration suites will
 * run, and fails the run when `EBIND_REQUIRE_NATS=1` and no `nats-server` exists.
 *
 * Reference: DESIGN.md §6.
 * @module
 */
import { execFileSync } from "node:child_process";
import { findNatsServer } from "../src/embed/index.js";
import { NEW_NATS_VERSION, newNatsBinary, newNatsPath, newNatsRequired } from "./support/nats-latest.js";

/**
 * Vitest `globalSetup` entry point.
 * @throws Error when nats-server is required but missing, or the newer one (`EBIND_REQUIRE_NEW_NATS=1`)
 *   was not built.
 */
export default function setup(): void {
  checkNewNats();
  const bin = findNatsServer();
  if (bin !== undefined) {
    let version = "unknown version";
    try {
      version = execFileSync(bin, ["--version"], { encoding: "utf8", timeout: 5000 }).trim().replace(/^nats-server:\s*/, "");
    } catch {
      // keep "unknown version"
    }
    process.stdout.write(`nats-server ${bin} ${version} found: NATS suites run\n`);
    return;
  }
  if (process.env.EBIND_REQUIRE_NATS === "1") {
    throw new Error(
      "nats-server not found on PATH or in NATS_SERVER_BIN, and EBIND_REQUIRE_NATS=1: the NATS integration " +
        "suites must run. Install it (apt-get install nats-server, or a release binary from the NATS project).",
    );
  }
  process.stderr.write(
    "!!! nats-server not found: NATS integration suites are SKIPPED; set EBIND_REQUIRE_NATS=1 to make this a failure\n",
  );
}

/** Says whether the suites pinned to the newer server (test/support/nats-latest.ts) run. */
function checkNewNats(): void {
  if (newNatsBinary() !== undefined) return;
  if (newNatsRequired()) {
    throw new Error(
      `nats-server ${NEW_NATS_VERSION} not found at ${newNatsPath()}, and EBIND_REQUIRE_NEW_NATS=1: build it with scripts/nats-server.sh`,
    );
  }
  process.stderr.write(`!!! nats-server ${NEW_NATS_VERSION} not built (scripts/nats-server.sh): its own suites are SKIPPED\n`);
}
