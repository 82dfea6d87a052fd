/**
 * `ebctl ui`: the bin's `ui` command serves the dashboard on the connection the global flags open,
 * prints its address with the token (pretty and JSON), takes the token from `--ui-token` or
 * `EBIND_UI_TOKEN`, stops on the run's signal, and names a taken port.
 */
import { createServer } from "node:net";
import { PassThrough, Writable } from "node:stream";
import { expect, it } from "vitest";
import { runCli } from "../../../src/cli/index.js";
import { registerUiCommand } from "../../../src/ui/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { EMPTY_HOME } from "../cli/support.js";
import { http } from "./env.js";

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString("utf8");
    done();
  }
}

function startUi(args: string[], url: string, env: Record<string, string> = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const ac = new AbortController();
  const stdin = new PassThrough();
  stdin.end();
  const code = runCli(["ui", ...args], { stdin, stdout, stderr, isTTY: false, env: { HOME: EMPTY_HOME, EBIND_NATS_URL: url, ...env }, signal: ac.signal }, registerUiCommand);
  return { stdout, stderr, code, stop: () => ac.abort() };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeNats("ebctl ui", () => {
  const node = useNatsNode();

  it("prints the address with the token, serves the API, refuses a change without the token, and exits 0 when stopped", async () => {
    const ui = startUi(["--port", "0"], node().url);
    await until(() => ui.stdout.text.includes("dashboard: "), "the address");
    const url = new URL(/dashboard: (\S+)/.exec(ui.stdout.text)![1]!);
    expect(url.hostname).toBe("127.0.0.1");
    const token = new URLSearchParams(url.hash.slice(1)).get("token")!;
    expect(token.length).toBeGreaterThanOrEqual(16);
    expect((await http(Number(url.port), "GET", "/api/dags")).status).toBe(200);
    expect((await http(Number(url.port), "POST", "/api/dags/x/pause", { body: {} })).status).toBe(401);
    expect(ui.stdout.text).not.toContain(node().url); // no connection details
    ui.stop();
    expect(await ui.code).toBe(0);
    await expect(http(Number(url.port), "GET", "/api/dags")).rejects.toThrow();
  });

  it("-o json prints url, token and port; the token comes from EBIND_UI_TOKEN or --ui-token (the flag wins)", async () => {
    const fromEnv = startUi(["--port", "0", "-o", "json"], node().url, { EBIND_UI_TOKEN: "env-token-0123456789" });
    await until(() => fromEnv.stdout.text.includes("}"), "the JSON");
    const shown = JSON.parse(fromEnv.stdout.text) as { url: string; token: string; port: number };
    expect(shown).toMatchObject({ token: "env-token-0123456789", port: expect.any(Number) as number });
    expect(shown.url).toBe(`http://127.0.0.1:${shown.port}/#token=env-token-0123456789`);
    fromEnv.stop();
    expect(await fromEnv.code).toBe(0);

    const fromFlag = startUi(["--port", "0", "-o", "json", "--ui-token", "flag-token-0123456789"], node().url, { EBIND_UI_TOKEN: "env-token-0123456789" });
    await until(() => fromFlag.stdout.text.includes("}"), "the JSON");
    expect((JSON.parse(fromFlag.stdout.text) as { token: string }).token).toBe("flag-token-0123456789");
    fromFlag.stop();
    expect(await fromFlag.code).toBe(0);
  });

  it("a taken port, a bad port and a short token are errors with exit status 1", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const taken = startUi(["--port", String(port)], node().url);
      expect(await taken.code).toBe(1);
      expect(taken.stderr.text).toBe(`ebctl: ui: 127.0.0.1:${port} is in use (pass --port 0 for a free port)\n`);
    } finally {
      blocker.close();
    }
    const bad = startUi(["--port", "http"], node().url);
    expect(await bad.code).toBe(1);
    expect(bad.stderr.text).toContain('invalid port "http"');
    const short = startUi(["--port", "0", "--ui-token", "short"], node().url);
    expect(await short.code).toBe(1);
    expect(short.stderr.text).toMatch(/^ebctl: .*16/);
  });
});
