/**
 * nats-server nodes that require authentication or TLS, for the auth suites (issue 16): one per
 * mode, each with JetStream on, a random loopback port and a temporary store (`startNode` with
 * `extraConfig`), and for each the credentials that work and some that must not.
 *
 * Modes: `token`; `user` (user/password, optionally with per-user permissions); `nkey`; `jwt`
 * (decentralized auth: an operator, a system account and an application account whose JWT enables
 * JetStream, made with @nats-io/jwt and served by the memory resolver; the user's `.creds` file);
 * `tls` (server TLS with a CA made by openssl, see ./tls-files.ts); `mtls` (TLS with `verify: true`
 * and a client certificate).
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccount, createOperator, createUser, encodeAccount, encodeOperator, encodeUser, fmtCreds } from "@nats-io/jwt";
import { createUser as createNkeyUser } from "@nats-io/nkeys";
import { afterAll, beforeAll } from "vitest";
import { startNode, type NatsNode } from "../../src/embed/index.js";
import type { NatsConnectOptions } from "../../src/nats/index.js";
import { makeTlsFiles, type TlsFiles } from "./tls-files.js";

/** The authentication or transport security a server demands. */
export type AuthMode = "token" | "user" | "nkey" | "jwt" | "tls" | "mtls";

/** Every mode, in the order the suites run them. */
export const AUTH_MODES: readonly AuthMode[] = ["token", "user", "nkey", "jwt", "tls", "mtls"];

/** Pub/sub allow lists of one user, as nats-server's `permissions` block says them. */
export interface SubjectPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

/** A user of a `user` server: a name, a password and, optionally, what it may publish and subscribe. */
export interface PasswordUser {
  readonly user: string;
  readonly password: string;
  /**
   * Absent: everything is allowed. A string is configuration text put as is, e.g. `$PRODUCER` for a
   * block defined in {@link AuthServerOptions.authorizationPrelude}.
   */
  readonly permissions?: SubjectPermissions | string | undefined;
}

/** Credentials that must be refused, and the server's reason to expect in the error. */
export interface WrongCredentials {
  /** What is wrong, for test names. */
  readonly label: string;
  /** Options for `connectNats` (servers included). */
  readonly connect: NatsConnectOptions;
  /** ebctl's flags carrying the same (wrong) credentials. */
  readonly ebctlArgs: readonly string[];
  /** What the error must say besides the server (the server's or the TLS layer's reason). */
  readonly reason: RegExp;
}

/** A running server of one mode and the credentials that go with it. */
export interface AuthServer {
  readonly mode: AuthMode;
  readonly node: NatsNode;
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** The temporary folder holding the generated files (creds, seeds, certificates). */
  readonly dir: string;
  /** Options for `connectNats` that authenticate (servers included). */
  readonly connect: NatsConnectOptions;
  /** ebctl's flags that authenticate (without `-s`). */
  readonly ebctlArgs: readonly string[];
  /** The same credentials as ebctl's environment variables (`NATS_TOKEN`, `NATS_CREDS`, `NATS_CA`…). */
  readonly ebctlEnv: Readonly<Record<string, string>>;
  /** The same credentials as the fields of a `nats` CLI context (`token`, `creds`, `ca`…), with `url`. */
  readonly context: Readonly<Record<string, string>>;
  /** Credentials each of which the server refuses. */
  readonly wrong: readonly WrongCredentials[];
  /** The certificates, for `tls` and `mtls`. */
  readonly tls?: TlsFiles | undefined;
  /** `jwt` mode: the creds file of each of {@link AuthServerOptions.jwtUsers}, by name. */
  readonly credsFiles: Readonly<Record<string, string>>;
  /** Stops the server and removes {@link dir}. */
  stop(): Promise<void>;
}

/** Options of {@link startAuthServer}. */
export interface AuthServerOptions {
  /** `user` mode: the users (default: one `admin` with every permission). */
  readonly users?: readonly PasswordUser[] | undefined;
  /** `user` mode: configuration text at the top of the `authorization` block (e.g. `PRODUCER = { … }` variables). */
  readonly authorizationPrelude?: string | undefined;
  /** `jwt` mode: more users of the account, each with a creds file and pub/sub allow lists in its JWT. */
  readonly jwtUsers?: ReadonlyArray<{ readonly name: string; readonly permissions: SubjectPermissions }> | undefined;
  /** Connect timeout put in the returned options, ms. @default 3000 */
  readonly timeoutMs?: number | undefined;
  /** Receives each line the server prints (startNode's `logger`). */
  readonly logger?: ((line: string) => void) | undefined;
}

const q = (s: string): string => JSON.stringify(s);
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** `permissions { publish { allow: […] } subscribe { allow: […] } }` for one user. */
export function renderPermissions(p: SubjectPermissions): string {
  const list = (xs: readonly string[]): string => `[${xs.map(q).join(", ")}]`;
  return `permissions: { publish: { allow: ${list(p.publish)} }, subscribe: { allow: ${list(p.subscribe)} } }`;
}

interface ModeSetup {
  readonly config: string;
  readonly connect: Omit<NatsConnectOptions, "servers" | "timeoutMs">;
  readonly ebctlArgs: readonly string[];
  readonly ebctlEnv: Readonly<Record<string, string>>;
  readonly context: Readonly<Record<string, string>>;
  readonly wrong: ReadonlyArray<Omit<WrongCredentials, "connect"> & { readonly connect: Omit<NatsConnectOptions, "servers" | "timeoutMs"> }>;
  readonly tls?: TlsFiles;
  readonly credsFiles?: Readonly<Record<string, string>>;
}

const AUTH_VIOLATION = /Authorization Violation/i;

async function setUp(mode: AuthMode, dir: string, options: AuthServerOptions): Promise<ModeSetup> {
  switch (mode) {
    case "token": {
      const token = "s3cret-token";
      return {
        config: `authorization { token: ${q(token)} }`,
        connect: { token },
        ebctlArgs: ["--token", token],
        ebctlEnv: { NATS_TOKEN: token },
        context: { token },
        wrong: [
          { label: "a wrong token", connect: { token: "wrong-token-value" }, ebctlArgs: ["--token", "wrong-token-value"], reason: AUTH_VIOLATION },
          { label: "no token", connect: {}, ebctlArgs: [], reason: AUTH_VIOLATION },
        ],
      };
    }
    case "user": {
      const users = options.users ?? [{ user: "admin", password: "pa55word" }];
      const first = users[0]!;
      const permissions = (p: SubjectPermissions | string | undefined): string =>
        p === undefined ? "" : typeof p === "string" ? `, permissions: ${p}` : `, ${renderPermissions(p)}`;
      const entries = users.map((u) => `    { user: ${q(u.user)}, password: ${q(u.password)}${permissions(u.permissions)} }`);
      return {
        config: `authorization {\n${options.authorizationPrelude ?? ""}\n  users: [\n${entries.join(",\n")}\n  ]\n}`,
        connect: { user: first.user, pass: first.password },
        ebctlArgs: ["--user", first.user, "--password", first.password],
        ebctlEnv: { NATS_USER: first.user, NATS_PASSWORD: first.password },
        context: { user: first.user, password: first.password },
        wrong: [
          { label: "a wrong password", connect: { user: first.user, pass: "nope-pass" }, ebctlArgs: ["--user", first.user, "--password", "nope-pass"], reason: AUTH_VIOLATION },
          { label: "an unknown user", connect: { user: "nobody", pass: "x" }, ebctlArgs: ["--user", "nobody", "--password", "x"], reason: AUTH_VIOLATION },
        ],
      };
    }
    case "nkey": {
      const user = createNkeyUser();
      const seedFile = join(dir, "user.nk");
      writeFileSync(seedFile, `${text(user.getSeed())}\n`);
      const otherFile = join(dir, "other.nk");
      writeFileSync(otherFile, `${text(createNkeyUser().getSeed())}\n`);
      return {
        config: `authorization { users: [ { nkey: ${q(user.getPublicKey())} } ] }`,
        connect: { nkeyFile: seedFile },
        ebctlArgs: ["--nkey", seedFile],
        ebctlEnv: { NATS_NKEY: seedFile },
        context: { nkey: seedFile },
        wrong: [{ label: "an unknown nkey", connect: { nkeyFile: otherFile }, ebctlArgs: ["--nkey", otherFile], reason: AUTH_VIOLATION }],
      };
    }
    case "jwt": {
      const operator = createOperator();
      const system = createAccount();
      const account = createAccount();
      const user = createUser();
      const operatorJwt = await encodeOperator("ebind-test", operator, { system_account: system.getPublicKey() });
      const systemJwt = await encodeAccount("SYS", system, {}, { signer: operator });
      const revoked = createUser();
      // JetStream is off for an account unless its JWT gives it limits; a `limits` object replaces
      // the library's defaults whole, so every limit is spelled out (-1: none).
      const limits = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
      const accountJwt = await encodeAccount(
        "EBIND",
        account,
        // The revoked user: its JWT was issued before the time given here.
        { limits, revocations: { [revoked.getPublicKey()]: Math.floor(Date.now() / 1000) + 3600 } },
        { signer: operator },
      );
      const credsFile = join(dir, "user.creds");
      writeFileSync(credsFile, fmtCreds(await encodeUser("ebind-user", user, account), user));
      const revokedFile = join(dir, "revoked.creds");
      writeFileSync(revokedFile, fmtCreds(await encodeUser("revoked-user", revoked, account), revoked));
      // A user of an account of another operator: the server does not know its account.
      const strangerAccount = createAccount();
      const stranger = createUser();
      const credsFiles: Record<string, string> = {};
      for (const u of options.jwtUsers ?? []) {
        const kp = createUser();
        const file = join(dir, `${u.name}.creds`);
        const jwt = await encodeUser(u.name, kp, account, { pub: { allow: [...u.permissions.publish] }, sub: { allow: [...u.permissions.subscribe] } });
        writeFileSync(file, fmtCreds(jwt, kp));
        credsFiles[u.name] = file;
      }
      const strangerFile = join(dir, "stranger.creds");
      writeFileSync(strangerFile, fmtCreds(await encodeUser("stranger", stranger, strangerAccount), stranger));
      return {
        config: [
          `operator: ${q(operatorJwt)}`,
          `system_account: ${q(system.getPublicKey())}`,
          "resolver: MEMORY",
          `resolver_preload: {\n  ${system.getPublicKey()}: ${q(systemJwt)}\n  ${account.getPublicKey()}: ${q(accountJwt)}\n}`,
        ].join("\n"),
        connect: { credsFile },
        credsFiles,
        ebctlArgs: ["--creds", credsFile],
        ebctlEnv: { NATS_CREDS: credsFile },
        context: { creds: credsFile },
        wrong: [
          { label: "a creds file of another operator's account", connect: { credsFile: strangerFile }, ebctlArgs: ["--creds", strangerFile], reason: AUTH_VIOLATION },
          { label: "a revoked user's creds file", connect: { credsFile: revokedFile }, ebctlArgs: ["--creds", revokedFile], reason: AUTH_VIOLATION },
        ],
      };
    }
    case "tls":
    case "mtls": {
      const files = makeTlsFiles(dir);
      const verify = mode === "mtls";
      const config = `tls {\n  cert_file: ${q(files.serverCert)}\n  key_file: ${q(files.serverKey)}\n  ca_file: ${q(files.ca)}\n  verify: ${verify}\n  timeout: 2\n}`;
      const good = verify ? { caFile: files.ca, certFile: files.clientCert, keyFile: files.clientKey } : { caFile: files.ca };
      const args = verify ? ["--tlsca", files.ca, "--tlscert", files.clientCert, "--tlskey", files.clientKey] : ["--tlsca", files.ca];
      const env: Record<string, string> = verify ? { NATS_CA: files.ca, NATS_CERT: files.clientCert, NATS_KEY: files.clientKey } : { NATS_CA: files.ca };
      const context: Record<string, string> = verify ? { ca: files.ca, cert: files.clientCert, key: files.clientKey } : { ca: files.ca };
      const wrongCa = {
        label: "a CA that did not sign the server's certificate",
        connect: { tls: { ...good, caFile: files.otherCa } },
        ebctlArgs: verify ? ["--tlsca", files.otherCa, "--tlscert", files.clientCert, "--tlskey", files.clientKey] : ["--tlsca", files.otherCa],
        reason: /certificate/i,
      };
      const wrong = verify
        ? [
            wrongCa,
            // The server ends the handshake; the client sees a TLS alert or the connection closed.
            { label: "no client certificate", connect: { tls: { caFile: files.ca } }, ebctlArgs: ["--tlsca", files.ca], reason: /certificate|handshake|closed|reset|hang up|alert/i },
            { label: "a client certificate of another CA", connect: { tls: { caFile: files.ca, certFile: files.otherClientCert, keyFile: files.otherClientKey } }, ebctlArgs: ["--tlsca", files.ca, "--tlscert", files.otherClientCert, "--tlskey", files.otherClientKey], reason: /certificate|handshake|closed|reset|hang up|alert/i },
          ]
        : [wrongCa, { label: "no CA (the system's CAs do not know the test CA)", connect: {}, ebctlArgs: [], reason: /^(?=.*TLS: )(?=.*certificate)/s }];
      return { config, connect: { tls: good }, ebctlArgs: args, ebctlEnv: env, context, wrong, tls: files };
    }
  }
}

/**
 * Starts a JetStream node demanding `mode`, with the credentials for it written under a fresh
 * temporary folder.
 * @throws Error when openssl is missing (`tls`, `mtls`), or as `startNode` (the server's own words
 *   when it refuses the generated configuration).
 */
export async function startAuthServer(mode: AuthMode, options: AuthServerOptions = {}): Promise<AuthServer> {
  const dir = mkdtempSync(join(tmpdir(), `ebind-auth-${mode}-`));
  try {
    const s = await setUp(mode, dir, options);
    const node = await startNode({ extraConfig: s.config, ...(options.logger ? { logger: options.logger } : {}) });
    const timeoutMs = options.timeoutMs ?? 3000;
    const url = node.url;
    return {
      mode,
      node,
      url,
      dir,
      connect: { servers: url, timeoutMs, ...s.connect },
      ebctlArgs: s.ebctlArgs,
      ebctlEnv: s.ebctlEnv,
      context: { url, ...s.context },
      wrong: s.wrong.map((w) => ({ ...w, connect: { servers: url, timeoutMs, ...w.connect } })),
      tls: s.tls,
      credsFiles: s.credsFiles ?? {},
      stop: async () => {
        await node.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Starts a server of `mode` in `beforeAll` and stops it in `afterAll`. Call at the top of a
 * `describeNats`/`describeTls` body.
 * @returns a getter for the server; it throws before `beforeAll` ran.
 */
export function useAuthServer(mode: AuthMode, options: AuthServerOptions = {}): () => AuthServer {
  let server: AuthServer | undefined;
  beforeAll(async () => {
    server = await startAuthServer(mode, options);
  });
  afterAll(async () => {
    await server?.stop();
    server = undefined;
  });
  return () => {
    if (server === undefined) throw new Error(`useAuthServer(${mode}): the server is not running (use it inside tests or hooks)`);
    return server;
  };
}
