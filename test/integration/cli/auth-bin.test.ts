/**
 * ebctl against servers that require auth (a token; a user and password), and the real bin as a
 * process: exit status, `ebctl: <error>` on stderr, no usage on errors, and `npx ebctl` after a build.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startAuthServer, type AuthServer } from "../../support/auth-servers.js";
import { describeNats } from "../../support/nats.js";
import { EMPTY_HOME, ebctl, eventually } from "./support.js";

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

describeNats("ebctl auth and the bin", () => {
  let token: AuthServer;
  let users: AuthServer;
  let nkey: AuthServer;
  let seedFile: string;

  beforeAll(async () => {
    // The servers and credentials of test/support/auth-servers.ts; the end-to-end suites per mode are in test/integration/auth/.
    [token, users, nkey] = await Promise.all([
      startAuthServer("token"),
      startAuthServer("user", { users: [{ user: "operator", password: "pa55word" }] }),
      startAuthServer("nkey"),
    ]);
    seedFile = nkey.connect.nkeyFile!;
  });

  afterAll(async () => {
    await Promise.all([token, users, nkey].map((s) => s?.stop()));
  });

  it("--token and --user/--password connect; a wrong or missing one fails with connect <url>: … and no secret is printed", async () => {
    expect(await ebctl(["stream", "ls", "--token", "s3cret-token"], { url: token.url })).toMatchObject({ code: 0 });
    expect((await ebctl(["stream", "ls"], { url: token.url, env: { NATS_TOKEN: "s3cret-token" } })).code).toBe(0);
    const wrongToken = await ebctl(["stream", "ls", "--token", "wrong-token-value", "--timeout", "3s"], { url: token.url });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stdout).toBe("");
    expect(wrongToken.stderr).toMatch(new RegExp(`^ebctl: connect ${token.url}: .+\\n$`));
    expect(wrongToken.stderr).not.toContain("wrong-token-value");

    expect((await ebctl(["stream", "ls", "--user", "operator", "--password", "pa55word"], { url: users.url })).code).toBe(0);
    const wrongPass = await ebctl(["stream", "ls", "--user", "operator", "--password", "nope-pass", "--timeout", "3s"], { url: users.url });
    expect(wrongPass.code).toBe(1);
    expect(wrongPass.stderr).toMatch(new RegExp(`^ebctl: connect ${users.url}: .+\\n$`));
    expect(wrongPass.stderr).not.toContain("nope-pass");
    expect((await ebctl(["stream", "ls", "--timeout", "3s"], { url: users.url })).stderr).toMatch(/^ebctl: connect /);
  });

  it("--nkey (and NATS_NKEY) authenticate with a user seed file; a wrong seed is refused", async () => {
    await eventually(async () => expect((await ebctl(["stream", "ls", "--nkey", seedFile], { url: nkey.url })).code).toBe(0));
    expect((await ebctl(["stream", "ls"], { url: nkey.url, env: { NATS_NKEY: seedFile } })).code).toBe(0);
    const other = nkey.wrong[0]!.connect.nkeyFile!;
    const refused = await ebctl(["stream", "ls", "--nkey", other, "--timeout", "3s"], { url: nkey.url });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^ebctl: connect ${nkey.url}: .+\\n$`));
    expect((await ebctl(["stream", "ls", "--timeout", "3s"], { url: nkey.url })).code).toBe(1);
  });

  it("the bin: exit 0 with output on stdout; exit 1 with ebctl: <error> on stderr and no usage", () => {
    const env = { ...process.env, HOME: EMPTY_HOME, NATS_URL: token.url, NATS_TOKEN: "s3cret-token" };
    const bin = (args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/bin/ebctl.ts"), ...args], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const ok = bin(["stream", "ls", "-o", "json"]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe("[]\n"); // a fresh server: none of ebind's streams yet
    const bad = bin(["dlq", "show", "nan"]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toBe('ebctl: parse seq: invalid syntax: "nan" is not a number\n');
    const unknown = bin(["dag", "frobnicate"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe("ebctl: unknown command 'frobnicate'\n");
    const format = bin(["stream", "ls", "-o", "csv"]);
    expect([format.status, format.stderr]).toEqual([1, 'ebctl: unknown output format "csv" (want pretty|json)\n']);
  });

  // Found by a new user (issue 13): each of these hung, crashed with a stack trace, or echoed a secret.
  const binAsync = (args: string[], env: Record<string, string | undefined>): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> =>
    new Promise((done) => {
      const t0 = Date.now();
      const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/bin/ebctl.ts"), ...args], { env: { ...process.env, HOME: EMPTY_HOME, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      child.on("exit", (status) => {
        clearTimeout(killer);
        done({ status, stdout, stderr, ms: Date.now() - t0 });
      });
    });

  it("a connect timeout against a listener that never speaks NATS exits 1 at the timeout (the client leaks its socket)", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = await binAsync(["-s", `nats://127.0.0.1:${port}`, "--timeout", "1s", "dag", "ls"], {});
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`ebctl: connect nats://127.0.0.1:${port}: timeout\n`);
      expect(r.ms).toBeLessThan(10_000);
    } finally {
      silent.close();
    }
    const huge = await binAsync(["--timeout", "99999h", "dag", "ls"], { EBIND_NATS_URL: token.url });
    expect([huge.status, huge.stderr]).toEqual([1, 'ebctl: --timeout must be at most 596h31m23s, got "99999h"\n']);
  });

  it("output into a closed pipe ends quietly (no EPIPE stack trace)", async () => {
    const r = await new Promise<{ status: number | null; stderr: string }>((done) => {
      const child = spawn("sh", ["-c", `"${process.execPath}" --import tsx "${join(ROOT, "src/bin/ebctl.ts")}" completion bash | true`], { cwd: ROOT, env: { ...process.env, HOME: EMPTY_HOME }, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("exit", (status) => done({ status, stderr }));
    });
    expect(r.stderr).toBe("");
  });

  it("user and password in the server URL are used, as the nats CLI does, and never echoed in an error", async () => {
    const port = new URL(users.url).port;
    expect((await ebctl(["stream", "ls", "-s", `nats://operator:pa55word@127.0.0.1:${port}`])).code).toBe(0);
    const wrong = await ebctl(["stream", "ls", "-s", `nats://operator:n0pe-secret@127.0.0.1:${port}`, "--timeout", "3s"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).not.toContain("n0pe-secret");
    expect(wrong.stderr).toMatch(/^ebctl: connect nats:\/\/operator:\*\*\*@127\.0\.0\.1:\d+: /);
  });

  it.skipIf(!existsSync(join(ROOT, "dist/bin/ebctl.js")))("npx ebctl runs the built bin (after npm run build)", () => {
    const r = spawnSync("npx", ["--no-install", "ebctl", "version"], { cwd: ROOT, env: { ...process.env, HOME: EMPTY_HOME }, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ebctl \d+\.\d+\.\d+\n$/);
  });
});
