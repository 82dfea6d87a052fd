/**
 * Where ebctl's connection settings come from (src/cli/connection.ts): flag > env > nats context >
 * default, per setting; context files as the `nats` CLI writes them.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_SERVER, loadNatsContext, resolveConnection } from "../../../src/cli/connection.js";

function configHome(contexts: Record<string, object>, selected?: string): string {
  const home = mkdtempSync(join(tmpdir(), "ebctl-ctx-"));
  const dir = join(home, ".config", "nats");
  mkdirSync(join(dir, "context"), { recursive: true });
  for (const [name, body] of Object.entries(contexts)) writeFileSync(join(dir, "context", `${name}.json`), JSON.stringify(body));
  if (selected !== undefined) writeFileSync(join(dir, "context.txt"), `${selected}\n`);
  return home;
}

describe("ebctl connection settings", () => {
  it("defaults: nats://127.0.0.1:4222, name ebctl, 3 reconnects, the timeout given", () => {
    const o = resolveConnection({}, {}, 2500, () => undefined);
    expect(o).toMatchObject({ servers: DEFAULT_SERVER, name: "ebctl", maxReconnectAttempts: 3, timeoutMs: 2500 });
    expect(o.user).toBeUndefined();
    expect(o.tls).toBeUndefined();
  });

  it("flag > env > context, setting by setting; EBIND_NATS_URL before NATS_URL", () => {
    const ctx = { url: "nats://ctx:1", user: "cu", password: "cp", token: "ct", creds: "/c.creds", nkey: "/c.nk", cert: "/c.crt", key: "/c.key", ca: "/c.ca" };
    const fromCtx = resolveConnection({}, {}, 1000, () => ctx);
    expect(fromCtx).toMatchObject({ servers: "nats://ctx:1", user: "cu", pass: "cp", token: "ct", credsFile: "/c.creds", nkeyFile: "/c.nk", tls: { certFile: "/c.crt", keyFile: "/c.key", caFile: "/c.ca" } });

    const env = { NATS_URL: "nats://env:2", NATS_USER: "eu", NATS_PASSWORD: "ep", NATS_TOKEN: "et", NATS_CREDS: "/e.creds", NATS_NKEY: "/e.nk", NATS_CERT: "/e.crt", NATS_KEY: "/e.key", NATS_CA: "/e.ca" };
    const fromEnv = resolveConnection({}, env, 1000, () => ctx);
    expect(fromEnv).toMatchObject({ servers: "nats://env:2", user: "eu", pass: "ep", token: "et", credsFile: "/e.creds", nkeyFile: "/e.nk", tls: { certFile: "/e.crt", keyFile: "/e.key", caFile: "/e.ca" } });
    expect(resolveConnection({}, { ...env, EBIND_NATS_URL: "nats://ebind:3" }, 1000, () => ctx).servers).toBe("nats://ebind:3");

    const flags = { server: "nats://flag:4", user: "fu", password: "fp", token: "ft", creds: "/f.creds", nkey: "/f.nk", tlscert: "/f.crt", tlskey: "/f.key", tlsca: "/f.ca" };
    expect(resolveConnection(flags, { ...env, EBIND_NATS_URL: "nats://ebind:3" }, 1000, () => ctx)).toMatchObject({
      servers: "nats://flag:4",
      user: "fu",
      pass: "fp",
      token: "ft",
      credsFile: "/f.creds",
      nkeyFile: "/f.nk",
      tls: { certFile: "/f.crt", keyFile: "/f.key", caFile: "/f.ca" },
    });
    // Only what the flag names is overridden: the rest still comes from env / context.
    expect(resolveConnection({ user: "fu" }, { NATS_PASSWORD: "ep" }, 1000, () => ctx)).toMatchObject({ servers: "nats://ctx:1", user: "fu", pass: "ep", token: "ct" });
  });

  it("the context: --context, else NATS_CONTEXT, else the one selected in context.txt; XDG_CONFIG_HOME first; ~ expanded", () => {
    const home = configHome({ dev: { url: "nats://dev:1", user: "d", creds: "~/dev.creds" }, prod: { url: "nats://prod:1", description: "ignored", jetstream_domain: "" } }, "dev");
    expect(resolveConnection({}, { HOME: home }, 1000)).toMatchObject({ servers: "nats://dev:1", user: "d", credsFile: join(home, "dev.creds") });
    expect(resolveConnection({}, { HOME: home, NATS_CONTEXT: "prod" }, 1000)).toMatchObject({ servers: "nats://prod:1", user: undefined });
    expect(resolveConnection({ context: "dev" }, { HOME: home, NATS_CONTEXT: "prod" }, 1000).servers).toBe("nats://dev:1");
    expect(loadNatsContext(undefined, { HOME: home })?.url).toBe("nats://dev:1");

    const xdg = join(configHome({ x: { url: "nats://xdg:1" } }, "x"), ".config");
    expect(resolveConnection({}, { HOME: home, XDG_CONFIG_HOME: xdg }, 1000).servers).toBe("nats://xdg:1");
    // No selection and no name: no context.
    expect(resolveConnection({}, { HOME: configHome({}) }, 1000).servers).toBe(DEFAULT_SERVER);
  });

  it("a named context that is missing or broken is an error naming it", () => {
    const home = configHome({ dev: { url: "nats://dev:1" } });
    expect(() => resolveConnection({ context: "nope" }, { HOME: home }, 1000)).toThrow(/^context "nope": .*nope\.json not found$/);
    writeFileSync(join(home, ".config", "nats", "context", "bad.json"), "{oops");
    expect(() => resolveConnection({ context: "bad" }, { HOME: home }, 1000)).toThrow(/^context "bad": /);
    expect(() => resolveConnection({ context: "../etc/passwd" }, { HOME: home }, 1000)).toThrow(/invalid context name/);
  });

  it("a context field ebctl reads that is not a string is an error, never a fall-back to the default server", () => {
    // Found by a new user: {"url": 5} was ignored and ebctl went to nats://127.0.0.1:4222.
    const home = configHome({ badurl: { url: 5 }, badca: { url: "nats://x:1", ca: ["a.pem"] }, nulls: { url: "nats://n:1", token: null } });
    expect(() => resolveConnection({ context: "badurl" }, { HOME: home }, 1000)).toThrow(/^context "badurl": .*badurl\.json: field "url" must be a string, got 5$/);
    expect(() => resolveConnection({ context: "badca" }, { HOME: home }, 1000)).toThrow(/field "ca" must be a string, got \["a\.pem"\]$/);
    // null is "not set", as an absent field.
    expect(resolveConnection({ context: "nulls" }, { HOME: home }, 1000)).toMatchObject({ servers: "nats://n:1", token: undefined });
  });
});
