/**
 * `ebind/otel` and workflows (issue 17): a DAG of five steps — results flowing, a fan-out and a
 * fan-in — is one trace: the submit span is a child of the caller's span, and each step's process
 * span (and the publish span that started it) a direct child of the submit span. Over both backends.
 */
import { context, SpanKind, trace } from "@opentelemetry/api";
import { expect, it } from "vitest";
import { silentLogger, type Broker } from "../../../src/broker/index.js";
import { openTelemetry } from "../../../src/observe/otel/index.js";
import { Registry } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { alwaysLeader, Workflow } from "../../../src/workflow/index.js";
import { describeBackends, openFreshBroker, useCleanups } from "../../support/backends.js";
import { add, concat, double, sum } from "../../support/handlers/workflow.js";
import { idOf, useTracing } from "../../support/otel.js";
import { eventually } from "../../support/queue.js";

describeBackends("otel: one trace per DAG", (backend) => {
  const tracing = useTracing();
  const cleanups = useCleanups();

  async function open(): Promise<Broker> {
    const broker = await openFreshBroker(backend, cleanups);
    await broker.purgeStream("EBIND_DAG_EVENTS").catch(() => 0); // left by an earlier test of the file (NATS)
    return broker;
  }

  it("five steps with a fan-out and a fan-in: the submit span under the caller's, every step's process span directly under the submit span", async () => {
    const broker = await open();
    const telemetry = openTelemetry({ tracerProvider: tracing.provider });
    const workflow = await Workflow.create(broker, { logger: silentLogger, telemetry });
    cleanups.push(async () => workflow.close());
    const registry = new Registry();
    for (const h of [add, double, sum, concat]) registry.register(h);
    const worker = await Worker.start(broker, registry, { logger: silentLogger, pullExpiresMs: 1000, stepHook: workflow.stepHook, middleware: [workflow.middleware], telemetry });
    cleanups.push(() => worker.close());
    const scheduler = await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });
    cleanups.push(() => scheduler.stop());

    const dag = workflow.dag({ labels: ["otel"] });
    const a = dag.step("a", add, 1, 2); // 3
    const b = dag.step("b", double, a.ref()); // 6
    const c = dag.step("c", double, a.ref()); // 6
    const d = dag.step("d", sum, b.ref(), c.ref()); // 12
    dag.step("e", concat, "total", d.ref()); // "total:12"
    const caller = tracing.provider.getTracer("app").startSpan("handle request");
    await context.with(trace.setSpan(context.active(), caller), () => workflow.submit(dag));
    caller.end();
    expect(await workflow.awaitById(dag.id, "e", { timeoutMs: 15_000 })).toBe("total:12");
    await eventually(() => tracing.spans().filter((s) => s.name.startsWith("process ")).length === 5, "five process spans");

    const spans = tracing.spans();
    const submit = spans.find((s) => s.name === "submit dag")!;
    expect(submit.kind).toBe(SpanKind.PRODUCER);
    expect(idOf(submit.parentSpanContext)).toBe(idOf(caller.spanContext()));
    expect(submit.attributes).toMatchObject({ "ebind.dag.id": dag.id, "ebind.dag.steps": 5, "ebind.dag.labels": ["otel"] });

    const processes = spans.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(processes.map((s) => s.attributes["ebind.step.id"]).sort()).toEqual(["a", "b", "c", "d", "e"]);
    for (const p of processes) {
      expect(idOf(p.parentSpanContext)).toBe(idOf(submit.spanContext()));
      expect(p.attributes).toMatchObject({ "ebind.dag.id": dag.id, "messaging.message.id": `${dag.id}:${String(p.attributes["ebind.step.id"])}`, "ebind.task.outcome": "succeeded" });
    }
    const publishes = spans.filter((s) => s.attributes["ebind.publish.kind"] === "step");
    expect(publishes.map((s) => s.attributes["ebind.step.id"]).sort()).toEqual(["a", "b", "c", "d", "e"]);
    for (const p of publishes) expect(idOf(p.parentSpanContext)).toBe(idOf(submit.spanContext()));
    // One trace: the caller's.
    for (const s of spans) expect(s.spanContext().traceId).toBe(caller.spanContext().traceId);
    // The DAG's context is stored in its meta.
    const meta = (await workflow.dagInfo(dag.id)).meta;
    expect(meta.traceCtx?.traceparent).toBe(`00-${submit.spanContext().traceId}-${submit.spanContext().spanId}-01`);
  });
});
