import { expect, it } from "vitest";
import { defineHandler } from "../../../src/task/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { useQueueEnv } from "../../support/queue.js";

const echo = defineHandler("test.echo", async (_ctx, s: string) => `echo:${s}`);

describeNats("smoke", () => {
  const node = useNatsNode();
  const env = useQueueEnv(node);
  it("round trip", async () => {
    const { registry, client, startWorker } = await env();
    registry.register(echo);
    await startWorker();
    const fut = await client.enqueue(echo, "hello");
    expect(await fut.result({ timeoutMs: 5000 })).toBe("echo:hello");
  });
});
