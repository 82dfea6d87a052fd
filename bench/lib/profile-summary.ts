/**
 * Prints the top functions of .cpuprofile files: npx tsx lib/profile-summary.ts <file|dir>...
 * By self time; with INCLUSIVE=1 by total time (self plus callees, each function counted once per
 * stack), which shows which of our functions a cost hangs under. TOP=n sets how many (default 25),
 * MATCH=text keeps only the functions whose name or file contains it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const files = process.argv.slice(2).flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(p, f)) : [p]));
const top = Number(process.env.TOP ?? 25);
const inclusive = process.env.INCLUSIVE === "1";
const match = process.env.MATCH;

function keyOf(n: Node): string {
  const url = n.callFrame.url.replace(/^file:\/\//, "").replace(/.*\/(node_modules\/)/, "$1").replace(/.*\/work\/[^/]+\//, "");
  return `${n.callFrame.functionName || "(anonymous)"}  ${url}:${n.callFrame.lineNumber + 1}`;
}

for (const file of files) {
  const prof = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const byFn = new Map<string, number>();
  let busy = 0;
  if (inclusive) {
    // Walk from the root keeping the set of functions on the stack; each hit counts once for each.
    const walk = (n: Node, onStack: Set<string>) => {
      const k = keyOf(n);
      const added = !onStack.has(k);
      if (added) onStack.add(k);
      const hits = n.hitCount ?? 0;
      if (hits && !k.startsWith("(idle)") && !k.startsWith("(program)")) {
        busy += hits;
        for (const s of onStack) byFn.set(s, (byFn.get(s) ?? 0) + hits);
      }
      for (const c of n.children ?? []) walk(byId.get(c)!, onStack);
      if (added) onStack.delete(k);
    };
    walk(prof.nodes[0]!, new Set());
  } else {
    for (const n of prof.nodes) byFn.set(keyOf(n), (byFn.get(keyOf(n)) ?? 0) + (n.hitCount ?? 0));
    busy = prof.samples.length;
  }
  const ms = (prof.endTime - prof.startTime) / 1000;
  console.log(`\n${file}: ${prof.samples.length} samples over ${ms.toFixed(0)} ms${inclusive ? ` (${busy} busy; % of busy)` : ""}`);
  const rows = [...byFn].filter(([k]) => !match || k.includes(match)).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [k, hits] of rows) console.log(`${((hits / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
}
