/**
 * `combineTelemetry(openTelemetry(), metrics.telemetry)` where tracing is broken — a span processor
 * that throws in `onEnd`, or an observer whose hooks are `async` and reject — costs the metrics
 * nothing: every task is counted enqueued, started and succeeded with its handler duration, the
 * failure is logged once per component and hook, and no rejection goes unhandled. On the memory
 * backend (the guard is the same on NATS).
 */
import type { Context } from "@opentelemetry/api";
import { BasicTracerProvider, type ReadableSpan, type Span, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { combineTelemetry, ensureStreams, type Telemetry } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import { memoryBroker } from "../../../src/memory/index.js";
import { openTelemetry } from "../../../src/observe/otel/index.js";
import { prometheusMetrics } from "../../../src/observe/prometheus/index.js";
import { defineHandler, Registry } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { useCleanups } from "../../support/backends.js";
import { recordingLogger } from "../../support/logger.js";
import { parseExposition } from "../../support/prom-text.js";

const inc = defineHandler("combined.inc", async (_ctx, n: number) => n + 1);

/** A span processor that throws whenever a span ends. */
class ThrowingOnEnd implements SpanProcessor {
  onStart(_span: Span, _parent: Context): void {}
  onEnd(_span: ReadableSpan): void {
    throw new Error("exporter is broken");
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

async function rejectLater(): Promise<never> {
  await Promise.resolve();
  throw new Error("async observer is broken");
}

/** An observer written with async hooks that all reject. */
const asyncObserver = {
  publish: rejectLater,
  attempt: () => ({ run: <T>(fn: () => T): T => fn(), end: rejectLater }),
  deadLetter: rejectLater,
} as unknown as Telemetry;

describe("combined telemetry with a broken observer [memory]", () => {
  const cleanups = useCleanups();

  const cases: Array<[string, () => Telemetry, string[]]> = [
    [
      "tracing whose span processor throws in onEnd",
      () => openTelemetry({ tracerProvider: new BasicTracerProvider({ spanProcessors: [new ThrowingOnEnd()] }) }),
      ["client.telemetry:publish.end", "worker.telemetry:attempt.end"],
    ],
    ["an observer whose async hooks reject", () => asyncObserver, ["client.telemetry:publish", "worker.telemetry:attempt.end"]],
  ];
  for (const [what, broken, warnings] of cases) {
    it(`${what}: the metrics count every task; the failure logged once per hook`, async () => {
      const broker = memoryBroker();
      cleanups.push(() => broker.close());
      await ensureStreams(broker);
      const log = recordingLogger();
      const metrics = prometheusMetrics();
      const telemetry = combineTelemetry(broken(), metrics.telemetry);
      const registry = new Registry();
      registry.register(inc);
      const worker = await Worker.start(broker, registry, { logger: log, telemetry });
      cleanups.push(() => worker.close());
      const client = await Client.create(broker, { logger: log, telemetry });
      cleanups.push(() => client.close());

      for (let i = 0; i < 3; i++) expect(await (await client.enqueue(inc, i)).result({ timeoutMs: 5000 })).toBe(i + 1);
      await worker.close();

      const e = parseExposition(await metrics.metrics());
      expect(e.value("ebind_tasks_enqueued_total", { task: "combined.inc", publish: "enqueue" })).toBe(3);
      expect(e.value("ebind_tasks_started_total", { task: "combined.inc" })).toBe(3);
      expect(e.value("ebind_tasks_succeeded_total", { task: "combined.inc" })).toBe(3);
      expect(e.value("ebind_handler_duration_seconds_count", { task: "combined.inc", outcome: "succeeded" })).toBe(3);
      const warned = log.lines.filter(([level]) => level === "warn").map(([, message]) => message.split(":")[0] + ":" + String(/hook (\S+)/.exec(message)?.[1]));
      expect(warned.sort()).toEqual(warnings);
    });
  }
});
