/**
 * `startNode`, `startCluster` and the demo run whichever nats-server `NATS_SERVER_BIN` names: here the
 * newer release `scripts/nats-server.sh` builds (issue 15). Each test reads the version back from the
 * running server itself (`/varz`, the connection's INFO), so a test that silently ran PATH's server
 * (Debian's 2.9.10) fails.
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startCluster, startNode } from "../../../src/embed/index.js";
import { describeNewNats } from "../../support/nats.js";
import { NEW_NATS_VERSION, newNatsBinary } from "../../support/nats-latest.js";

const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
/** `v2.15.3` → `2.15.3`, as the server reports itself. */
const WANT = NEW_NATS_VERSION.replace(/^v/, "");

async function varzVersion(monitorUrl: string): Promise<string> {
  const res = await fetch(`${monitorUrl}/varz`);
  return ((await res.json()) as { version: string }).version;
}

async function infoVersion(url: string): Promise<string | undefined> {
  const nc = await connect({ servers: url });
  try {
    return nc.info?.version;
  } finally {
    await nc.close();
  }
}

it("scripts/nats-server.sh builds the version the tests look for", async () => {
  const script = await readFile(join(PROJECT_ROOT, "scripts", "nats-server.sh"), "utf8");
  expect(/^version="\$\{1:-(v[0-9.]+)\}"$/m.exec(script)?.[1]).toBe(NEW_NATS_VERSION);
});

describeNewNats(`embed: NATS_SERVER_BIN names nats-server ${NEW_NATS_VERSION}`, () => {
  const saved = process.env.NATS_SERVER_BIN;
  let bin: string;
  beforeAll(() => {
    bin = newNatsBinary()!;
    process.env.NATS_SERVER_BIN = bin;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.NATS_SERVER_BIN;
    else process.env.NATS_SERVER_BIN = saved;
  });

  it("startNode runs it: the node's /varz and a client's INFO both report its version", async () => {
    await using node = await startNode();
    const version = await varzVersion(node.monitorUrl);
    process.stdout.write(`startNode ran nats-server ${version} (${bin})\n`);
    expect(version).toBe(WANT);
    expect(await infoVersion(node.url)).toBe(WANT);
  });

  it("startCluster runs it on every node, and the three agree on a JetStream meta leader", async () => {
    await using cluster = await startCluster({ size: 3 });
    await cluster.waitReady();
    const versions = await Promise.all(cluster.nodes.map((n) => varzVersion(n.monitorUrl)));
    process.stdout.write(`startCluster ran nats-server ${versions.join(", ")}\n`);
    expect(versions).toEqual([WANT, WANT, WANT]);
  });

  it("the demo's embedded server is it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ebind-demo-bin-"));
    await writeFile(join(dir, "a.txt"), "one\ntwo\n");
    const env: NodeJS.ProcessEnv = { ...process.env, NATS_SERVER_BIN: bin };
    delete env.NATS_URL;
    // With --ui the demo keeps its embedded server up after the report until SIGINT: ask it then.
    const child = spawn(process.execPath, ["--import", TSX, join(PROJECT_ROOT, "demo", "main.ts"), "--ui", "--json", dir], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      let stderr = "";
      const port = await new Promise<number>((resolve, reject) => {
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
          stderr += d;
          const m = /embedded nats-server at nats:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
          if (m && stderr.includes("dashboard stays up")) resolve(Number(m[1]));
        });
        void exited.then((code) => reject(new Error(`the demo exited (${code}) before it was up; stderr:\n${stderr}`)));
      });
      const version = await infoVersion(`nats://127.0.0.1:${port}`);
      process.stdout.write(`the demo ran nats-server ${version}\n`);
      expect(version).toBe(WANT);
    } finally {
      child.kill("SIGINT");
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
