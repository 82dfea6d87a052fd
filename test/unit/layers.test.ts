/**
 * The layering of DESIGN.md §3, checked on the source: each folder of `src/` imports only the
 * folders listed before it, and inside `src/workflow/` each room imports only the rooms below it.
 * A violation names the file, the import and the rule it breaks.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** What each top-level folder may import (besides itself). */
const TOP: Readonly<Record<string, readonly string[]>> = {
  task: [],
  broker: ["task"],
  nats: ["task", "broker"],
  memory: ["task", "broker"],
  embed: ["task"], // its errors are task's EbindError

  client: ["task", "broker"],
  worker: ["task", "broker"],
  dlq: ["task", "broker"],
  workflow: ["task", "broker", "client", "worker"],
  cli: ["task", "broker", "nats", "dlq", "workflow"],
  ui: ["task", "broker", "nats", "memory", "dlq", "workflow", "cli"],
  observe: ["task", "broker", "worker", "workflow"],
};

/** Optional peer dependencies, and the one folder of src/ that may import each (its subpath export). */
const OPTIONAL_PEERS: Readonly<Record<string, string>> = {
  "@opentelemetry/api": "observe/otel/",
  "prom-client": "observe/prometheus/",
};

/** Layers whose imports of other layers must go through their public barrel (`<layer>/index.ts`). */
const PUBLIC_API_ONLY = ["cli", "ui", "observe"];

/** Rooms of `src/workflow/`, lowest first; a room imports only rooms before it ("" = the top files). */
const WORKFLOW_ROOMS = ["model", "plan", "store", "build", "run", "steps", "ops", ""];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Relative imports of a file (static, dynamic and type-only), resolved to paths under src/. */
function imports(file: string): string[] {
  // Comments may show imports in examples; only code counts.
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)) {
    out.push(relative(SRC, resolve(dirname(file), m[1]!)));
  }
  return out;
}

function top(path: string): string {
  return path.split("/")[0]!;
}

function room(path: string): string {
  const parts = path.split("/");
  return parts.length > 2 ? parts[1]! : "";
}

describe("layers (DESIGN.md §3)", () => {
  const files = sources(SRC).map((f) => relative(SRC, f));

  it("each src/ folder imports only the folders below it", () => {
    const broken: string[] = [];
    for (const file of files) {
      const layer = top(file);
      const allowed = TOP[layer];
      if (allowed === undefined) continue; // entry points (index.ts, dev/, testing/) may import anything
      for (const target of imports(join(SRC, file))) {
        const to = top(target);
        if (to !== layer && !allowed.includes(to)) broken.push(`${file} imports ${target} (${layer} may import ${allowed.join(", ") || "nothing"})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("each room of src/workflow imports only the rooms below it", () => {
    const broken: string[] = [];
    for (const file of files.filter((f) => top(f) === "workflow")) {
      const from = WORKFLOW_ROOMS.indexOf(room(file));
      expect(from, `${file} is in a room the layering does not know`).toBeGreaterThanOrEqual(0);
      for (const target of imports(join(SRC, file)).filter((t) => top(t) === "workflow")) {
        const to = WORKFLOW_ROOMS.indexOf(room(target));
        if (to > from) {
          broken.push(`${file} imports ${target}: ${room(file) || "workflow/"} is below ${room(target) || "workflow/"}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it("src/cli, src/ui and src/observe use the layers below only through their public API (index.ts)", () => {
    const broken: string[] = [];
    for (const file of files.filter((f) => PUBLIC_API_ONLY.includes(top(f)))) {
      for (const target of imports(join(SRC, file))) {
        if (top(target) !== top(file) && !/^[a-z]+\/index\.js$/.test(target)) broken.push(`${file} imports ${target} (not a public index)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("optional peer dependencies are imported only by their own subpath's folder, so the core never loads them", () => {
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(SRC, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']([^."'][^"']*)["']/g)) {
        const pkg = m[1]!;
        const home = Object.entries(OPTIONAL_PEERS).find(([prefix]) => pkg === prefix || pkg.startsWith(`${prefix}/`))?.[1];
        if (home !== undefined && !file.startsWith(home)) broken.push(`${file} imports ${pkg} (only ${home} may)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
