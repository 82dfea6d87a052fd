// Copies the dashboard's page (src/ui/assets) into dist/ui/assets after `tsc`, so the built
// package serves it (src/ui/assets.ts reads the folder beside its module).
/* global console */
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const from = join(root, "src", "ui", "assets");
const to = join(root, "dist", "ui", "assets");
mkdirSync(to, { recursive: true });
cpSync(from, to, { recursive: true });
console.log(`copied ${from} -> ${to}`);
