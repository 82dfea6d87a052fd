/**
 * Where and how ebctl connects, as the `nats` CLI spells it: flags `-s/--server`, `--user`,
 * `--password`, `--token`, `--creds`, `--nkey`, `--tlscert`, `--tlskey`, `--tlsca`, `--context`;
 * the environment `NATS_URL` (and ebind's `EBIND_NATS_URL`, which wins over it), `NATS_USER`,
 * `NATS_PASSWORD`, `NATS_TOKEN`, `NATS_CREDS`, `NATS_NKEY`, `NATS_CERT`, `NATS_KEY`, `NATS_CA`,
 * `NATS_CONTEXT`; and a `nats` CLI context (JSON in `$XDG_CONFIG_HOME/nats/context/<name>.json`,
 * default `~/.config/nats/context/`, the selected one named in `…/nats/context.txt`; fields `url`,
 * `user`, `password`, `token`, `creds`, `nkey`, `cert`, `key`, `ca`). Each setting is taken from the
 * first of flag, environment, context, default (`nats://127.0.0.1:4222`).
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnectOptions } from "../nats/index.js";
import { CliError } from "./errors.js";

/** The server used when nothing names one (reference §4.1). */
export const DEFAULT_SERVER = "nats://127.0.0.1:4222";

/** The connection flags as given on the command line (absent = not given). */
export interface ConnectionFlags {
  readonly server?: string | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly token?: string | undefined;
  readonly creds?: string | undefined;
  readonly nkey?: string | undefined;
  readonly tlscert?: string | undefined;
  readonly tlskey?: string | undefined;
  readonly tlsca?: string | undefined;
  /** A `nats` CLI context name. */
  readonly context?: string | undefined;
}

/** The fields ebctl reads from a `nats` CLI context file (the others are ignored). */
export interface NatsContext {
  readonly url?: string | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly token?: string | undefined;
  readonly creds?: string | undefined;
  readonly nkey?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly ca?: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The folder holding `context.txt` and `context/`: `$XDG_CONFIG_HOME/nats`, else `$HOME/.config/nats`. */
export function natsConfigDir(env: Env): string | undefined {
  const xdg = nonEmpty(env.XDG_CONFIG_HOME);
  if (xdg !== undefined) return join(xdg, "nats");
  const home = nonEmpty(env.HOME);
  return home === undefined ? undefined : join(home, ".config", "nats");
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === "" ? undefined : s;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Loads the context to use: `name` when given (`--context`, else `NATS_CONTEXT`), else the one
 * selected in `context.txt`, else none.
 * @throws CliError `context "<name>": …` for a named context that is missing or not JSON, or whose
 *   `url`, `user`, `password`, `token`, `creds`, `nkey`, `cert`, `key` or `ca` is not a string.
 */
export function loadNatsContext(name: string | undefined, env: Env): NatsContext | undefined {
  const dir = natsConfigDir(env);
  if (dir === undefined) {
    if (name !== undefined) throw new CliError(`context "${name}": no $HOME or $XDG_CONFIG_HOME to find it in`);
    return undefined;
  }
  let chosen = name;
  if (chosen === undefined) {
    chosen = nonEmpty(readText(join(dir, "context.txt"))?.trim());
    if (chosen === undefined) return undefined;
  }
  if (!/^[\w.-]+$/.test(chosen) || chosen.startsWith(".")) throw new CliError(`context "${chosen}": invalid context name`);
  const path = join(dir, "context", `${chosen}.json`);
  const text = readText(path);
  if (text === undefined) throw new CliError(`context "${chosen}": ${path} not found`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(`context "${chosen}": ${path}: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new CliError(`context "${chosen}": ${path} is not a JSON object`);
  const o = parsed as Record<string, unknown>;
  // A field ebctl reads that is there but not a string is refused: ignoring it would fall back to
  // the default server (127.0.0.1:4222), which may be another deployment.
  const field = (k: string): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw new CliError(`context "${chosen}": ${path}: field "${k}" must be a string, got ${JSON.stringify(v)}`);
    return nonEmpty(v);
  };
  return { url: field("url"), user: field("user"), password: field("password"), token: field("token"), creds: field("creds"), nkey: field("nkey"), cert: field("cert"), key: field("key"), ca: field("ca") };
}

/** `~/x` → `$HOME/x`, as the `nats` CLI expands paths in contexts. */
function expandHome(path: string | undefined, env: Env): string | undefined {
  if (path === undefined) return undefined;
  const home = nonEmpty(env.HOME);
  return home !== undefined && (path === "~" || path.startsWith("~/")) ? join(home, path.slice(1)) : path;
}

/**
 * The options for `connectNats` from flags, environment and context (flag > env > context >
 * default), named `ebctl`, giving up after 3 reconnects.
 * @param timeoutMs the connect timeout (`--timeout`).
 * @param loadContext reads a context (injected by tests). @default loadNatsContext
 * @throws CliError for a named context that cannot be read.
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: Env,
  timeoutMs: number,
  loadContext: (name: string | undefined, env: Env) => NatsContext | undefined = loadNatsContext,
): NatsConnectOptions & { readonly servers: string } {
  const ctx = loadContext(nonEmpty(flags.context) ?? nonEmpty(env.NATS_CONTEXT), env) ?? {};
  const pick = (flag: string | undefined, envNames: readonly string[], fromCtx: string | undefined): string | undefined => {
    if (nonEmpty(flag) !== undefined) return flag;
    for (const n of envNames) if (nonEmpty(env[n]) !== undefined) return env[n];
    return fromCtx;
  };
  const servers = pick(flags.server, ["EBIND_NATS_URL", "NATS_URL"], ctx.url) ?? DEFAULT_SERVER;
  const certFile = expandHome(pick(flags.tlscert, ["NATS_CERT"], ctx.cert), env);
  const keyFile = expandHome(pick(flags.tlskey, ["NATS_KEY"], ctx.key), env);
  const caFile = expandHome(pick(flags.tlsca, ["NATS_CA"], ctx.ca), env);
  const tls = certFile !== undefined || keyFile !== undefined || caFile !== undefined ? { certFile, keyFile, caFile } : undefined;
  return {
    servers,
    name: "ebctl",
    user: pick(flags.user, ["NATS_USER"], ctx.user),
    pass: pick(flags.password, ["NATS_PASSWORD"], ctx.password),
    token: pick(flags.token, ["NATS_TOKEN"], ctx.token),
    credsFile: expandHome(pick(flags.creds, ["NATS_CREDS"], ctx.creds), env),
    nkeyFile: expandHome(pick(flags.nkey, ["NATS_NKEY"], ctx.nkey), env),
    tls,
    timeoutMs,
    maxReconnectAttempts: 3,
  };
}
