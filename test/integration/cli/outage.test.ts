/**
 * Long-lived ebctl commands across a NATS outage (issue 13, found by a new user): `ebctl ui` stayed
 * dead for good after a restart that took longer than its 3 reconnect attempts, and the watches
 * ended silently with status 0. Now they reconnect for as long as it takes.
 */
import { PassThrough, Writable } from "node:stream";
import { expect, it } from "vitest";
import { connectNats } from "../../../src/nats/index.js";
import { ensureStreams } from "../../../src/broker/index.js";
import { runCli } from "../../../src/cli/index.js";
import { registerUiCommand } from "../../../src/ui/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { http } from "../ui/env.js";
import { EMPTY_HOME, eventually } from "./support.js";

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString("utf8");
    done();
  }
}

function start(args: string[], url: string) {
  const stdout = new Capture();
  const stderr = new Capture();
  const ac = new AbortController();
  const stdin = new PassThrough();
  stdin.end();
  const code = runCli(args, { stdin, stdout, stderr, isTTY: false, env: { HOME: EMPTY_HOME, EBIND_NATS_URL: url }, signal: ac.signal }, registerUiCommand);
  return { stdout, stderr, code, stop: () => ac.abort() };
}

describeNats("ebctl across a NATS outage", () => {
  const node = useNatsNode();

  it("ui and dag watch outlive an 8 s outage (longer than 3 reconnect attempts) and work again once the server is back", async () => {
    const setup = await connectNats({ servers: node().url });
    await ensureStreams(setup);
    await setup.close();
    const ui = start(["ui", "--port", "0"], node().url);
    const watch = start(["dag", "watch"], node().url);
    await eventually(() => expect(ui.stdout.text).toContain("dashboard: "));
    const port = Number(new URL(/dashboard: (\S+)/.exec(ui.stdout.text)![1]!).port);
    expect((await http(port, "GET", "/api/dags")).status).toBe(200);

    await node().kill();
    await new Promise((r) => setTimeout(r, 8000));
    await node().restart();

    await eventually(async () => expect((await http(port, "GET", "/api/dags")).status).toBe(200), 20_000);
    const publisher = await connectNats({ servers: node().url });
    try {
      await eventually(async () => {
        publisher.connection.publish("DAG.after-outage.completed.s1", new TextEncoder().encode(JSON.stringify({ kind: "completed", dag_id: "after-outage", step_id: "s1", status: "done" })));
        await publisher.connection.flush();
        expect(watch.stdout.text).toContain("DAG after-outage  step s1  completed  status=done");
      }, 20_000);
    } finally {
      await publisher.close();
    }
    ui.stop();
    watch.stop();
    expect(await ui.code).toBe(0);
    expect(await watch.code).toBe(0);
    expect(ui.stderr.text + watch.stderr.text).toBe("");
  }, 60_000);
});
