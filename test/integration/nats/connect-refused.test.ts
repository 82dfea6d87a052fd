/**
 * A server that answers the CONNECT with an `-ERR` other than an authorization error, then closes
 * (here `max_connections: 1` and a second client): the client alone would wait for its connect
 * timeout and say only `timeout`. connectNats fails at once with the server's words when it was
 * given one server, and names each server's reason in the timeout when given several
 * (src/nats/connect-watch.ts). The client's own attempt is ended too: a process whose connect failed
 * exits then, not when the client's connect timer would have fired.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNode, type NatsNode } from "../../../src/embed/index.js";
import { connectNats } from "../../../src/nats/index.js";
import { EbindError } from "../../../src/task/index.js";
import { describeNats } from "../../support/nats.js";

const CONNECT_MODULE = fileURLToPath(new URL("../../../src/nats/index.ts", import.meta.url));

/** Runs a Node process that calls connectNats(options), prints the error and ends; resolves with its output and how long it lived. */
function connectInChild(options: object): Promise<{ out: string; ms: number }> {
  const code = `import { connectNats } from ${JSON.stringify(CONNECT_MODULE)};
connectNats(${JSON.stringify(options)}).then((b) => b.close(), (e) => console.log(e.message));`;
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
    child.on("error", reject);
    child.on("exit", () => {
      clearTimeout(killer);
      resolve({ out, ms: Date.now() - t0 });
    });
  });
}

async function fullNode(): Promise<{ node: NatsNode; holder: NatsConnection }> {
  const node = await startNode({ extraConfig: "max_connections: 1" });
  const holder = await connect({ servers: node.url });
  return { node, holder };
}

describeNats("connect refused by the server after CONNECT", () => {
  it("one server: fails at once with the server's reason, not at the timeout", async () => {
    const { node, holder } = await fullNode();
    try {
      const t0 = Date.now();
      const err = await connectNats({ servers: node.url, timeoutMs: 20_000 }).then(
        async (b) => {
          await b.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EbindError);
      expect((err as EbindError).message).toBe(`connect ${node.url}: maximum connections exceeded`);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await holder.close();
      await node.stop();
    }
  });

  it("the process that failed to connect exits at once: the client's connect timer does not keep it alive", async () => {
    const { node, holder } = await fullNode();
    try {
      const r = await connectInChild({ servers: node.url, timeoutMs: 30_000 });
      expect(r.out).toBe(`connect ${node.url}: maximum connections exceeded\n`);
      expect(r.ms).toBeLessThan(15_000); // tsx start-up included; the timer would hold it 30 s
    } finally {
      await holder.close();
      await node.stop();
    }
  });

  it("several servers: the timeout names what each server said", async () => {
    const a = await fullNode();
    const b = await fullNode();
    try {
      const err = await connectNats({ servers: [a.node.url, b.node.url], timeoutMs: 1000 }).then(
        async (broker) => {
          await broker.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EbindError);
      const message = (err as EbindError).message;
      expect(message).toMatch(/: timeout \(/);
      for (const n of [a.node, b.node]) expect(message).toContain(`127.0.0.1:${n.port}: maximum connections exceeded`);
    } finally {
      for (const x of [a, b]) {
        await x.holder.close();
        await x.node.stop();
      }
    }
  });
});
