/**
 * Finding `go` and building the Go peer `ebgo` (interop/go) once per content hash, without vitest:
 * used by the interop suites (test/support/go.ts) and by bench/ alike.
 *
 * The build is cached under `os.tmpdir()/ebind-go-<hash>/ebgo`, the hash covering go.mod, go.sum and
 * every `.go` file of `interop/go`, so the forks of one run (and later runs) build it once; a build
 * writes to a temporary name and renames it into place, so concurrent builders cannot see half a file.
 * @module
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The Go module of the peer. */
export const GO_MODULE_DIR = fileURLToPath(new URL("../../interop/go/", import.meta.url));

/** Where `go` is looked for after `PATH`. */
const FALLBACK_GO = "/usr/local/go/bin/go";

/** The `go` executable: `GO_BIN`, then `PATH`, then `/usr/local/go/bin/go`; undefined when none exists. */
export function findGo(): string | undefined {
  if (process.env.GO_BIN) return existsSync(process.env.GO_BIN) ? process.env.GO_BIN : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && existsSync(join(dir, "go"))) return join(dir, "go");
  }
  return existsSync(FALLBACK_GO) ? FALLBACK_GO : undefined;
}

/** Whether CI demands the Go interop suites (`EBIND_REQUIRE_GO=1`). */
export function goRequired(): boolean {
  return process.env.EBIND_REQUIRE_GO === "1";
}

/** The hash of the module's sources: go.mod, go.sum and the `.go` files, in name order. */
export function goSourceHash(): string {
  const hash = createHash("sha256");
  const files = readdirSync(GO_MODULE_DIR)
    .filter((f) => f === "go.mod" || f === "go.sum" || f.endsWith(".go"))
    .sort();
  for (const f of files) {
    hash.update(f).update("\0").update(readFileSync(join(GO_MODULE_DIR, f))).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

let built: string | undefined;

/**
 * The path of the `ebgo` binary, building it when this content hash has no binary yet.
 * @throws Error when `go` is missing or the build fails (with go's output).
 */
export function ebgoPath(): string {
  if (built !== undefined) return built;
  const go = findGo();
  if (go === undefined) throw new Error("go not found (GO_BIN, PATH, /usr/local/go/bin)");
  const dir = join(tmpdir(), `ebind-go-${goSourceHash()}`);
  const bin = join(dir, "ebgo");
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const partial = join(dir, `ebgo.${process.pid}.partial`);
    execFileSync(go, ["build", "-o", partial, "."], { cwd: GO_MODULE_DIR, stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
    renameSync(partial, bin);
  }
  built = bin;
  return bin;
}
