/** Prints the top self-time functions of .cpuprofile files: npx tsx lib/profile-summary.ts <file|dir>... */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const files = process.argv.slice(2).flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(p, f)) : [p]));
const top = Number(process.env.TOP ?? 25);
for (const file of files) {
  const prof = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const total = prof.samples.length;
  const byFn = new Map<string, number>();
  for (const n of prof.nodes) {
    const url = n.callFrame.url.replace(/^file:\/\//, "").replace(/.*\/(node_modules\/)/, "$1").replace(/.*\/work\/main\//, "");
    const key = `${n.callFrame.functionName || "(anonymous)"}  ${url}:${n.callFrame.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + (n.hitCount ?? 0));
  }
  const ms = (prof.endTime - prof.startTime) / 1000;
  console.log(`\n${file}: ${total} samples over ${ms.toFixed(0)} ms`);
  for (const [k, hits] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  }
}
