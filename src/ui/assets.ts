/**
 * The page's static files: `index.html`, `app.js`, `graph.js`, `style.css` from `assets/` beside
 * this module (src/ui/assets in a checkout, dist/ui/assets once built: `scripts/copy-assets.mjs`),
 * and the layout library, dagre, from its installed package (`createRequire(...).resolve`), so the
 * page needs no network beyond the dashboard. Read once, at start.
 * @module
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One file to serve. */
export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const PAGE_FILES: Readonly<Record<string, string>> = {
  "/assets/app.js": "text/javascript; charset=utf-8",
  "/assets/graph.js": "text/javascript; charset=utf-8",
  "/assets/views.js": "text/javascript; charset=utf-8",
  "/assets/style.css": "text/css; charset=utf-8",
};

/** The path of dagre's self-contained browser build (graphlib included; global `dagre`). */
export function dagreBundlePath(): string {
  const main = createRequire(import.meta.url).resolve("@dagrejs/dagre");
  return join(dirname(main), "dagre.min.js");
}

/** The assets by URL path, and the page's HTML (its asset links carry `?token=` on a non-loopback bind). */
export interface Assets {
  readonly files: ReadonlyMap<string, Asset>;
  /** The page with `{{q}}` in asset links replaced by `query` (e.g. `?token=…`, or ""). */
  page(query: string): Asset;
}

/**
 * Loads the assets.
 * @throws Error naming the missing file when the package was built without its assets.
 */
export async function loadAssets(): Promise<Assets> {
  const dir = fileURLToPath(new URL("./assets/", import.meta.url));
  const files = new Map<string, Asset>();
  for (const [path, type] of Object.entries(PAGE_FILES)) {
    files.set(path, { type, body: await readFile(join(dir, path.slice("/assets/".length))) });
  }
  files.set("/vendor/dagre.min.js", { type: "text/javascript; charset=utf-8", body: await readFile(dagreBundlePath()) });
  const html = await readFile(join(dir, "index.html"), "utf8");
  return {
    files,
    page: (query) => ({ type: "text/html; charset=utf-8", body: Buffer.from(html.replaceAll("{{q}}", query)) }),
  };
}
