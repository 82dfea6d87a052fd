/**
 * The dashboard over a broker that is not NATS (the memory backend): streams come from
 * `broker.streamState`, DLQ additions from a durable consumer that delivers new entries only (and is
 * deleted on close), workflow changes from the same watch. Also: src/ui reaches the layers below
 * only through their public index files (DESIGN.md §3).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { DLQ_STREAM, ensureStreams, silentLogger } from "../../../src/broker/index.js";
import { memoryBroker } from "../../../src/memory/index.js";
import { Workflow } from "../../../src/workflow/index.js";
import { startDashboard } from "../../../src/ui/index.js";
import { eventually } from "../../support/queue.js";
import { echo, http } from "./env.js";

describe("dashboard over the memory backend", () => {
  it("lists the engine's streams, follows DLQ additions and workflow changes, and removes its DLQ consumer on close", async () => {
    const broker = memoryBroker();
    await ensureStreams(broker);
    const workflow = await Workflow.create(broker, { logger: silentLogger });
    const ui = await startDashboard({ broker, workflow, logger: silentLogger });
    const events: string[] = [];
    const req = request({ host: "127.0.0.1", port: ui.port, path: "/api/events", headers: { Host: `127.0.0.1:${ui.port}` } });
    req.on("response", (res) => res.on("data", (c: Buffer) => events.push(c.toString())));
    req.end();
    try {
      await eventually(() => events.join("").includes("event: hello"), "hello");
      await eventually(async () => ((await broker.streamState(DLQ_STREAM))?.consumers ?? 0) === 1, "the DLQ follower's consumer");
      const streams = await http(ui.port, "GET", "/api/streams");
      expect(streams.json.backend).toBe("memory");
      expect(streams.json.streams.map((s: any) => s.name)).toEqual(expect.arrayContaining(["EBIND_TASKS", "EBIND_DLQ", "EBIND_DAG_EVENTS"]));

      await broker.publish("DLQ.some.task", new TextEncoder().encode("{}"));
      await eventually(() => events.join("").includes('event: dlq\ndata: {"reason":"added"}'), "dlq added event");

      const dag = workflow.dag();
      dag.step("s", echo, 1);
      await workflow.submit(dag);
      await eventually(() => events.join("").includes(`"dagId":"${dag.id}"`), "dag change event");
    } finally {
      req.destroy();
      await ui.close();
      await ui.close(); // idempotent
      workflow.close();
    }
    expect((await broker.streamState(DLQ_STREAM))?.consumers).toBe(0);
    await broker.close();
  });
});

describe("src/ui layering", () => {
  it("imports other layers only through their index.js (the public API), never workflow internals", () => {
    const dir = fileURLToPath(new URL("../../../src/ui/", import.meta.url));
    const broken: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(join(dir, file), "utf8");
      for (const m of text.matchAll(/from\s+["'](\.\.\/[^"']+)["']/g)) {
        if (!/^\.\.\/[a-z]+\/index\.js$/.test(m[1]!)) broken.push(`${file}: ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
