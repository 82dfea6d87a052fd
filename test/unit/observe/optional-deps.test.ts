/**
 * prom-client is an optional peer dependency: only `src/observe/prometheus/` (the `ebind/prometheus`
 * subpath) may import it, so the core and `ebind/observe` load without it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../../src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

it("only src/observe/prometheus imports prom-client", () => {
  const importers = sources(SRC)
    .filter((f) => /from\s+["']prom-client["']|import\(\s*["']prom-client["']/.test(readFileSync(f, "utf8")))
    .map((f) => relative(SRC, f));
  expect(importers.length).toBeGreaterThan(0);
  expect(importers.filter((f) => !f.startsWith("observe/prometheus/"))).toEqual([]);
});
