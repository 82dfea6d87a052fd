/**
 * The subjects each role of an ebind deployment must be allowed to publish and subscribe to, read
 * from the README's "Auth, TLS and permissions" section — the `conf` block after the line
 * `<!-- ebind roles: … -->` — so that test/integration/auth/permissions.test.ts proves the
 * documentation itself: its role blocks (`PRODUCER = { … }`, `WORKER`, `SCHEDULER`) are put verbatim
 * into the test server's `authorization` block.
 *
 * How the lists were worked out: a run with `trace: true` (every PUB and SUB of each role's
 * connection), generalised with the code's subject layout — JetStream API subjects are
 * `$JS.API.<op>.<stream>…`, KV buckets are the streams `KV_<bucket>` with subjects
 * `$KV.<bucket>.<key>`, acks go to `$JS.ACK.<stream>.<consumer>.…`, replies to requests to
 * `_INBOX.…`, and KV watches (ordered consumers) may send flow-control replies to `$JS.FC.<stream>.…`.
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { SubjectPermissions } from "./auth-servers.js";

/** One role as the README defines it. */
export interface ReadmeRole {
  /** The configuration variable, e.g. `PRODUCER` (users refer to it as `$PRODUCER`). */
  readonly name: string;
  /** The definition as written, `  PRODUCER = { … }`. */
  readonly config: string;
  /** The quoted subjects of its publish and subscribe allow lists. */
  readonly permissions: SubjectPermissions;
}

const README = fileURLToPath(new URL("../../README.md", import.meta.url));
const MARKER = "<!-- ebind roles:";

/**
 * The role blocks of the README's permissions section.
 * @throws Error naming what is missing when the marker, the block or a role cannot be found.
 */
export function readmeRoles(path: string = README): ReadmeRole[] {
  const text = readFileSync(path, "utf8");
  const at = text.indexOf(MARKER);
  if (at < 0) throw new Error(`${path}: no line starting ${MARKER}`);
  const block = /```conf\n([\s\S]*?)\n```/.exec(text.slice(at));
  if (!block) throw new Error(`${path}: no \`\`\`conf block after ${MARKER}`);
  const roles: ReadmeRole[] = [];
  for (const m of block[1]!.matchAll(/^ {2}([A-Z_]+) = \{\n([\s\S]*?)\n {2}\}$/gm)) {
    const body = m[2]!;
    const list = (section: "publish" | "subscribe"): string[] => {
      const s = new RegExp(`${section}: \\{ allow: \\[([\\s\\S]*?)\\] \\}`).exec(body);
      if (!s) throw new Error(`${path}: role ${m[1]!} has no ${section} allow list`);
      return [...s[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!);
    };
    roles.push({ name: m[1]!, config: m[0], permissions: { publish: list("publish"), subscribe: list("subscribe") } });
  }
  if (roles.length === 0) throw new Error(`${path}: no role blocks (  NAME = { … }) in the conf block after ${MARKER}`);
  return roles;
}

/** The README's role blocks as configuration text for `authorizationPrelude`. */
export function readmeRolesConfig(): string {
  return readmeRoles()
    .map((r) => r.config)
    .join("\n");
}
