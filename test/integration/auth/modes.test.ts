/**
 * Issue 16: each kind of credential against a real nats-server configured for it (token,
 * user/password, nkey, decentralized JWT with a creds file, TLS with a test CA, mutual TLS). With
 * the right credentials the task queue, the DLQ, a DAG, the heartbeat thread's connection and ebctl
 * (flags, environment, nats context) all work; each wrong credential fails at once — long before
 * the connect timeout — with an error naming the server and the server's (or TLS layer's) reason.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { connectNats } from "../../../src/nats/index.js";
import { EbindError } from "../../../src/task/index.js";
import { AUTH_MODES, useAuthServer } from "../../support/auth-servers.js";
import { describeNats } from "../../support/nats.js";
import { describeTls } from "../../support/tls-files.js";
import { ebctl } from "../cli/support.js";
import { runScenario } from "./scenario.js";

/** Connect timeout of the wrong-credential cases: a failure must come long before it. */
const WRONG_TIMEOUT_MS = 20_000;
/** A failure this much before {@link WRONG_TIMEOUT_MS} did not wait for the timeout. */
const FAST_MS = 10_000;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

for (const mode of AUTH_MODES) {
  const describeMode = mode === "tls" || mode === "mtls" ? describeTls : describeNats;
  describeMode(`auth end to end: ${mode}`, () => {
    const server = useAuthServer(mode);

    it("task queue, DLQ requeue, a DAG and the heartbeat thread work; ebctl with the flags sees them", async () => {
      const s = server();
      const broker = await connectNats(s.connect);
      let dagId: string;
      let deadSeq: number;
      try {
        ({ dagId, deadSeq } = await runScenario(broker));
      } finally {
        await broker.close();
      }
      const flags = ["-s", s.url, ...s.ebctlArgs, "-o", "json"];
      const streams = await ebctl(["stream", "ls", ...flags]);
      expect(streams.stderr).toBe("");
      expect(parseJson<Array<{ name: string }>>(streams.stdout).map((x) => x.name)).toEqual(expect.arrayContaining(["EBIND_TASKS", "EBIND_DLQ", "EBIND_RESP"]));
      const dag = await ebctl(["dag", "get", dagId, ...flags]);
      expect(dag.stderr).toBe("");
      expect(parseJson<{ Meta: { id: string; status: string } }>(dag.stdout).Meta).toMatchObject({ id: dagId, status: "done" });
      const dlq = await ebctl(["dlq", "ls", ...flags]);
      expect(dlq.stderr).toBe("");
      expect(dlq.stdout).toContain("auth.Broken");
      const show = await ebctl(["dlq", "show", String(deadSeq), ...flags]);
      expect(show.stderr).toBe("");
      expect(show.stdout).toContain("broken for good");
    });

    it("ebctl takes the same credentials from the environment and from a nats context", async () => {
      const s = server();
      const env = await ebctl(["stream", "ls", "-o", "json"], { url: s.url, env: { ...s.ebctlEnv } });
      expect(env).toMatchObject({ code: 0, stderr: "" });
      const home = mkdtempSync(join(tmpdir(), `ebctl-ctx-${mode}-`));
      mkdirSync(join(home, ".config", "nats", "context"), { recursive: true });
      writeFileSync(join(home, ".config", "nats", "context", "auth.json"), JSON.stringify(s.context));
      const ctx = await ebctl(["stream", "ls", "-o", "json", "--context", "auth"], { env: { HOME: home, EBIND_NATS_URL: undefined } });
      expect(ctx).toMatchObject({ code: 0, stderr: "" });
      expect(ctx.stdout).toContain("EBIND_TASKS");
    });

    it("each wrong credential fails at once with the server and the reason: connectNats and ebctl", async () => {
      const s = server();
      expect(s.wrong.length).toBeGreaterThan(0);
      for (const w of s.wrong) {
        const t0 = Date.now();
        const err = await connectNats({ ...w.connect, timeoutMs: WRONG_TIMEOUT_MS }).then(
          async (b) => {
            await b.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        const ms = Date.now() - t0;
        expect(err, w.label).toBeInstanceOf(EbindError);
        expect((err as EbindError).code, w.label).toBe("unavailable");
        expect((err as EbindError).message, w.label).toMatch(new RegExp(`^connect ${escape(s.url)}: `));
        expect((err as EbindError).message, w.label).toMatch(w.reason);
        expect(ms, `${w.label}: failed after ${ms} ms, not at once`).toBeLessThan(FAST_MS);

        const t1 = Date.now();
        const run = await ebctl(["stream", "ls", "-s", s.url, ...w.ebctlArgs, "--timeout", `${WRONG_TIMEOUT_MS / 1000}s`]);
        const cliMs = Date.now() - t1;
        expect(run.code, w.label).toBe(1);
        expect(run.stdout, w.label).toBe("");
        expect(run.stderr, w.label).toMatch(new RegExp(`^ebctl: connect ${escape(s.url)}: .+\\n$`));
        expect(run.stderr, w.label).toMatch(w.reason);
        expect(cliMs, `${w.label}: ebctl failed after ${cliMs} ms, not at once`).toBeLessThan(FAST_MS);
      }
    });
  });
}
