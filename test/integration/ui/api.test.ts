/**
 * The dashboard's JSON API over a real nats-server: DAG list with filters and counts, a DAG and a
 * step in detail, the controls (pause, resume, cancel, breakpoint, signal — bad JSON refused with
 * nothing sent), the DLQ (list, show, requeue one and all, purge), streams with consumers, and the
 * live event stream fed by the workflow watch.
 */
import { request } from "node:http";
import { expect, it } from "vitest";
import { eventually } from "../../support/queue.js";
import { describeNats } from "../../support/nats.js";
import { add, control, double, echo, flaky, http, sometimes, useUiEnv } from "./env.js";

describeNats("dashboard API", () => {
  const env = useUiEnv();

  it("lists DAGs newest first with step counts and status counts; filters by status, labels and age", async () => {
    const { workflow, dashboard } = env();
    const a = workflow.dag({ labels: ["api-list", "one"] });
    const s = a.step("sum", add, 2, 3);
    a.step("double", double, s.ref());
    await workflow.submit(a);
    await workflow.awaitDag(a.id, { timeoutMs: 10_000 });
    const b = workflow.dag({ labels: ["api-list"] });
    b.step("held", echo, "x").breakBefore("bp");
    await workflow.submit(b, { breakpoints: ["bp"] });

    const all = await http(dashboard.port, "GET", "/api/dags?labels=api-list");
    expect(all.status).toBe(200);
    expect(all.json.dags.map((d: any) => d.meta.id)).toEqual([b.id, a.id]);
    expect(all.json.dags[1].counts).toMatchObject({ total: 2, done: 2 });
    expect(all.json.statusCounts).toEqual({ done: 1, running: 1 });
    const done = await http(dashboard.port, "GET", "/api/dags?labels=api-list&status=done");
    expect(done.json.dags.map((d: any) => d.meta.id)).toEqual([a.id]);
    expect(done.json.total).toBe(1);
    const both = await http(dashboard.port, "GET", "/api/dags?labels=api-list,one");
    expect(both.json.dags.map((d: any) => d.meta.id)).toEqual([a.id]);
    expect((await http(dashboard.port, "GET", "/api/dags?labels=api-list&age=1h")).json.total).toBe(2);
    // Search by id (a new user could not reach older DAGs past the 500 shown), and the total
    // beyond the rows returned.
    const byId = await http(dashboard.port, "GET", `/api/dags?id=${a.id.slice(4, 12).toUpperCase()}`);
    expect(byId.json.dags.map((d: any) => d.meta.id)).toEqual([a.id]);
    expect(byId.json.dags[0].counts).toMatchObject({ total: 2, done: 2 });
    const one = await http(dashboard.port, "GET", "/api/dags?labels=api-list&limit=1");
    expect([one.json.dags.length, one.json.total]).toEqual([1, 2]);
    const bad = await http(dashboard.port, "GET", "/api/dags?age=soon");
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/age must be/);
    await workflow.cancel(b.id);
  });

  it("shows a DAG (steps with what they wait on, breakpoints, signals) and a step (arguments, result, attempts, worker, timings)", async () => {
    const { workflow, dashboard } = env();
    const dag = workflow.dag();
    const s = dag.step("sum", add, 20, 1);
    dag.step("double", double, s.ref()).waitForSignal("go");
    await workflow.submit(dag);
    await workflow.awaitById(dag.id, "sum", { timeoutMs: 10_000 });
    const info = await http(dashboard.port, "GET", `/api/dags/${dag.id}`);
    expect(info.status).toBe(200);
    expect(info.json.meta.status).toBe("running");
    expect(info.json.steps.find((x: any) => x.stepId === "double")).toMatchObject({ status: "pending", waitingOn: { signals: ["go"] }, deps: ["sum"] });
    expect(info.json.signals).toEqual([{ name: "go", delivered: false, waiting: ["double"] }]);
    expect(info.json.breakpoints).toEqual([]);

    const step = await http(dashboard.port, "GET", `/api/dags/${dag.id}/steps/sum`);
    expect(step.status).toBe(200);
    expect(step.json.step).toMatchObject({ stepId: "sum", fnName: "ui.add", status: "done", attempt: 1, argsJson: "[20,1]" });
    expect(typeof step.json.step.workerId).toBe("string");
    expect(step.json.result).toBe("21");
    expect(step.json.execMs).toBeGreaterThanOrEqual(0);
    expect(step.json.queueMs).toBeGreaterThanOrEqual(0);
    expect((await http(dashboard.port, "GET", `/api/dags/${dag.id}/steps/nope`)).status).toBe(404);
    expect((await http(dashboard.port, "GET", "/api/dags/no-such-dag")).status).toBe(404);
    await workflow.cancel(dag.id);
  });

  it("pause, resume, cancel; continue a breakpoint; a signal with bad JSON is a 400 and nothing is sent, with good JSON it is delivered", async () => {
    const { workflow, dashboard } = env();
    const post = (path: string, body: unknown = {}) => http(dashboard.port, "POST", path, { headers: control(dashboard.token), body });
    const dag = workflow.dag();
    const gate = dag.step("gate", echo, "g").breakBefore("inspect");
    const waits = dag.step("waits", echo, gate.ref()).waitForSignal("approval");
    await workflow.submit(dag, { breakpoints: ["inspect"] });
    await eventually(async () => (await workflow.listBreakpoints(dag.id)).some((b) => b.state === "blocked"), "gate blocked");

    expect((await post(`/api/dags/${dag.id}/pause`)).json.status).toMatch(/^paus/);
    expect((await workflow.dagInfo(dag.id)).meta.status).toMatch(/^paus/);
    expect((await post(`/api/dags/${dag.id}/resume`)).json).toEqual({ status: "running" });
    const notPaused = await post(`/api/dags/${dag.id}/resume`);
    expect(notPaused.status).toBe(200); // a repair on a running DAG, documented as safe

    const unknownLabel = await post(`/api/dags/${dag.id}/breakpoint`, { label: "nope" });
    expect(unknownLabel.status).toBe(400);
    expect((await post(`/api/dags/${dag.id}/breakpoint`, {})).status).toBe(400);
    expect((await post(`/api/dags/${dag.id}/breakpoint`, { label: "inspect" })).json).toEqual({ released: 1 });
    await workflow.awaitById(dag.id, "gate", { timeoutMs: 10_000 });

    const bad = await post(`/api/dags/${dag.id}/signal`, { name: "approval", payload: "{approved: yes" });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/not valid JSON.*nothing was sent/);
    expect(await workflow.listSignals(dag.id)).toEqual([{ name: "approval", delivered: false, waiting: ["waits"] }]);
    const good = await post(`/api/dags/${dag.id}/signal`, { name: "approval", payload: '{"approved": true}' });
    expect(good.json).toEqual({ delivered: true });
    expect((await workflow.listSignals(dag.id))[0]).toMatchObject({ name: "approval", delivered: true, payload: '{"approved":true}' });
    expect(await workflow.await(waits, { timeoutMs: 10_000 })).toBe("g");

    const other = workflow.dag();
    other.step("held", echo, 1).breakBefore("x");
    await workflow.submit(other, { breakpoints: ["x"] });
    expect((await post(`/api/dags/${other.id}/cancel`)).json).toEqual({ canceled: true });
    expect((await post(`/api/dags/${other.id}/cancel`)).json).toEqual({ canceled: false });
    expect((await post("/api/dags/no-such-dag/cancel")).status).toBe(404);
  });

  it("the DLQ: list, show, requeue one (the step reopens and its task runs), requeue all, purge; streams with consumers", async () => {
    const { workflow, dashboard, broker } = env();
    const post = (path: string) => http(dashboard.port, "POST", path, { headers: control(dashboard.token), body: {} });
    await broker.purgeStream("EBIND_DLQ");
    flaky.failing = true;
    const dags = [];
    for (const v of ["a", "b", "c"]) {
      const dag = workflow.dag();
      dag.step("s", sometimes, v);
      await workflow.submit(dag);
      dags.push(dag.id);
    }
    for (const id of dags) await expect(workflow.awaitDag(id, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: "dag_failed" });
    let list = await http(dashboard.port, "GET", "/api/dlq");
    await eventually(async () => (list = await http(dashboard.port, "GET", "/api/dlq")).json.total === 3, "3 dead letters");
    expect(list.json.entries.map((e: any) => e.entry.task.dagId)).toEqual([...dags].reverse());
    const first = list.json.entries.at(-1);
    expect(first.entry).toMatchObject({ task: { name: "ui.sometimes", stepId: "s" }, error: { kind: "boom", message: "failing a" }, finalAttempt: 1 });
    const shown = await http(dashboard.port, "GET", `/api/dlq/${first.seq}`);
    expect(shown.json.seq).toBe(first.seq);
    expect((await http(dashboard.port, "GET", "/api/dlq/999999")).status).toBe(404);
    expect((await http(dashboard.port, "GET", "/api/dlq/zero")).status).toBe(400);

    flaky.failing = false;
    const one = await post(`/api/dlq/${first.seq}/requeue`);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ seq: first.seq, name: "ui.sometimes" });
    expect(await workflow.awaitById(dags[0]!, "s", { timeoutMs: 10_000 })).toBe("ok:a");
    expect((await post(`/api/dlq/${first.seq}/requeue`)).status).toBe(404);

    const rest = await post("/api/dlq/requeue-all");
    expect(rest.json.requeued).toBe(2);
    expect(await workflow.awaitById(dags[2]!, "s", { timeoutMs: 10_000 })).toBe("ok:c");
    expect((await http(dashboard.port, "GET", "/api/dlq")).json.total).toBe(0);

    flaky.failing = true;
    const dag = workflow.dag();
    dag.step("s", sometimes, "d");
    await workflow.submit(dag);
    await expect(workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: "dag_failed" });
    await eventually(async () => (await http(dashboard.port, "GET", "/api/dlq")).json.total === 1, "1 dead letter");
    expect((await post("/api/dlq/purge")).json).toEqual({ purged: 1 });

    const streams = await http(dashboard.port, "GET", "/api/streams");
    expect(streams.json.backend).toBe("nats");
    const tasks = streams.json.streams.find((s: any) => s.name === "EBIND_TASKS");
    expect(tasks.consumers.length).toBeGreaterThan(0);
    expect(tasks.consumers[0]).toHaveProperty("pending");
    expect(streams.json.streams.map((s: any) => s.name)).toEqual(expect.arrayContaining(["EBIND_DLQ", "EBIND_DAG_EVENTS", "KV_ebind-dags"]));
  });

  it("the event stream says hello, then carries the DAG's record changes and DLQ changes as they happen", async () => {
    const { workflow, dashboard, broker } = env();
    const events: Array<{ event: string; data: any }> = [];
    const req = request({ host: "127.0.0.1", port: dashboard.port, path: "/api/events", headers: { Host: `127.0.0.1:${dashboard.port}` } });
    const opened = new Promise<void>((resolve, reject) => {
      req.on("response", (res) => {
        expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
            if (event === "hello") resolve();
          }
        });
      });
      req.on("error", reject);
    });
    req.end();
    try {
      await opened;
      const dag = workflow.dag();
      dag.step("one", add, 1, 1);
      await workflow.submit(dag);
      await workflow.awaitDag(dag.id, { timeoutMs: 10_000 });
      await eventually(() => events.some((e) => e.event === "dag" && e.data.type === "meta" && e.data.dagId === dag.id && e.data.meta?.status === "done"), "meta done event");
      const stepEvents = events.filter((e) => e.event === "dag" && e.data.type === "step" && e.data.dagId === dag.id).map((e) => e.data.step.status);
      expect(stepEvents).toContain("done");
      expect(events.find((e) => e.data.type === "step")!.data.step.argsJson).toBeUndefined();
      await broker.publish("DLQ.ui.fake", new TextEncoder().encode("not an entry"));
      await eventually(() => events.some((e) => e.event === "dlq" && e.data.reason === "added"), "dlq added event");
      await http(dashboard.port, "POST", "/api/dlq/purge", { headers: control(dashboard.token), body: {} });
      await eventually(() => events.some((e) => e.event === "dlq" && e.data.reason !== "added"), "dlq removed event");
    } finally {
      req.destroy();
    }
  });
});
