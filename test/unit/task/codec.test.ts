import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EbindError,
  RetryPolicy,
  TaskError,
  ZERO_TIME_MS,
  decodeDlqEntry,
  decodeResponse,
  decodeRetryPolicy,
  decodeTask,
  decodeTaskError,
  encodeDlqEntry,
  encodeResponse,
  encodeRetryPolicy,
  encodeTask,
  encodeTaskError,
  type DlqEntry,
  type RetryPolicyData,
  type Task,
  type TaskResponse,
} from "../../../src/task/index.js";
import { decodeFailure } from "../../support/wire.js";

function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/wire/${name}.json`, import.meta.url), "utf8").replace(/\n$/, "");
}

const BIG = "123456789012345678901234567890123456789";


describe("golden fixtures (reference §2.6.1–2.6.5)", () => {
  it("task from a client: minimal fields, zero deadline", () => {
    const text = fixture("task-client");
    const t = decodeTask(text);
    expect(t).toStrictEqual({
      id: "6f1c2d3e-8a4b-4c5d-9e6f-0a1b2c3d4e5f",
      name: "main.Greet",
      payload: '["world",true]',
      replyTo: "RESP.c9a0b1c2.6f1c2d3e-8a4b-4c5d-9e6f-0a1b2c3d4e5f",
      enqueuedAt: new Date("2026-05-01T10:00:00.123Z"),
      attempt: 0,
    });
    expect(encodeTask(t)).toBe(text);
  });

  it("DAG step task with a retry policy", () => {
    const text = fixture("task-dag-step");
    const t = decodeTask(text);
    expect(t).toEqual({
      id: "dag1:b",
      name: "workflow_test.hDouble",
      payload: "[5]",
      enqueuedAt: new Date("2026-05-01T10:00:00Z"),
      attempt: 0,
      dagId: "dag1",
      stepId: "b",
      retryPolicy: { initialIntervalMs: 500, backoffCoefficient: 1.5, maximumIntervalMs: 10_000, maximumAttempts: 3, nonRetryableErrorKinds: ["validation", "auth"] },
    });
    expect(t.retryPolicy).toBeInstanceOf(RetryPolicy);
    expect(t.deadline).toBeUndefined();
    expect(encodeTask(t)).toBe(text);
  });

  it("task with every field; the payload's 39-digit integer, 1e400 and escapes survive untouched", () => {
    const text = fixture("task-full");
    const t = decodeTask(text);
    expect(t.payload).toBe(`[${BIG},{"amount":1e400,"note":"caf\\u00e9 <b>"},null]`);
    expect(t).toEqual({
      id: "t-full",
      name: "billing.Charge",
      payload: t.payload,
      replyTo: "RESP.client1.t-full",
      deadline: new Date("2026-05-01T10:05:00.500Z"),
      enqueuedAt: new Date("2026-05-01T10:00:00.001Z"),
      attempt: 3,
      traceCtx: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate: "congo=t61rcWkgMzE" },
      dagId: "dag-7",
      stepId: "charge",
      retryPolicy: { initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 60_000, maximumAttempts: 5 },
      target: "primary",
      workerId: "w1",
    });
    expect(encodeTask(t)).toBe(text);
  });

  it("success response with a raw result", () => {
    const text = fixture("response-success");
    const r = decodeResponse(text);
    expect(r).toStrictEqual({
      taskId: "t-full",
      result: `{"total":${BIG},"ratio":1e400}`,
      attempts: 1,
      completedAt: new Date("2026-05-01T10:00:01.250Z"),
    });
    expect(encodeResponse(r)).toBe(text);
  });

  it("error response", () => {
    const text = fixture("response-error");
    const r = decodeResponse(text);
    expect(r).toStrictEqual({
      taskId: "t-err",
      error: { kind: "custom", message: "boom", retryable: false },
      attempts: 2,
      completedAt: new Date("2026-05-01T10:00:02Z"),
    });
    expect(encodeResponse(r)).toBe(text);
  });

  it("response of a handler with no result: neither result nor error", () => {
    const text = fixture("response-error-only");
    const r = decodeResponse(text);
    expect(r).toStrictEqual({ taskId: "t-void", attempts: 1, completedAt: new Date("2026-05-01T10:00:03.999Z") });
    expect("result" in r).toBe(false);
    expect(encodeResponse(r)).toBe(text);
  });

  it("DLQ entry", () => {
    const text = fixture("dlq-entry");
    const e = decodeDlqEntry(text);
    expect(e).toEqual({
      task: {
        id: "t-dead",
        name: "e2e.eAdd",
        payload: "[1,2]",
        replyTo: "RESP.client1.t-dead",
        enqueuedAt: new Date("2026-05-01T10:00:00Z"),
        attempt: 5,
        workerId: "w2",
      },
      error: { kind: "handler", message: "connection refused", retryable: true },
      finalAttempt: 5,
      deadLetteredAt: new Date("2026-05-01T10:01:00.750Z"),
    });
    expect(encodeDlqEntry(e)).toBe(text);
  });

  it("default and no-retry policies", () => {
    const def = fixture("retry-default");
    expect(def).toBe('{"initial_interval":1000000000,"backoff_coefficient":2,"maximum_interval":60000000000,"maximum_attempts":5}');
    expect(encodeRetryPolicy(new RetryPolicy())).toBe(def);
    expect(decodeRetryPolicy(def).toData()).toEqual(new RetryPolicy().toData());
    const none = fixture("retry-none");
    expect(none).toBe('{"initial_interval":0,"backoff_coefficient":0,"maximum_interval":0,"maximum_attempts":1}');
    expect(decodeRetryPolicy(none).toData()).toEqual({ initialIntervalMs: 0, backoffCoefficient: 0, maximumIntervalMs: 0, maximumAttempts: 1 });
    expect(encodeRetryPolicy(decodeRetryPolicy(none))).toBe(none);
  });

  it("task error", () => {
    const text = fixture("task-error");
    const e = decodeTaskError(text);
    expect(e).toStrictEqual({ kind: "deadline", message: "deadline exceeded before dispatch", retryable: false });
    expect(encodeTaskError(e)).toBe(text);
  });
});

describe("encoding rules", () => {
  const base: Task = { id: "a", name: "n", payload: "[]", enqueuedAt: new Date("2026-01-01T00:00:00Z"), attempt: 0 };

  it("omits empty optional strings and maps; writes deadline always", () => {
    const text = encodeTask({ ...base, replyTo: "", dagId: "", traceCtx: {}, target: "", workerId: "" });
    expect(text).toBe('{"id":"a","name":"n","payload":[],"deadline":"0001-01-01T00:00:00Z","enqueued_at":"2026-01-01T00:00:00Z","attempt":0}');
  });

  it("writes an empty payload as null (Go's nil RawMessage) and reads it back as null", () => {
    const text = encodeTask({ ...base, payload: "" });
    expect(text).toContain('"payload":null');
    expect(decodeTask(text).payload).toBe("null");
    expect(decodeTask('{"id":"a","name":"n","enqueued_at":"2026-01-01T00:00:00Z"}').payload).toBe("null");
  });

  it("sorts trace_ctx keys like Go and keeps a __proto__ key a key", () => {
    const traceCtx = JSON.parse('{"b":"2","a":"1","__proto__":"p"}') as Record<string, string>;
    const text = encodeTask({ ...base, traceCtx });
    expect(text).toContain('"trace_ctx":{"__proto__":"p","a":"1","b":"2"}');
    const back = decodeTask(text).traceCtx ?? {};
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back).sort()).toEqual(["__proto__", "a", "b"]);
  });

  it("writes an infinite coefficient as the largest double and keeps the same delays", () => {
    const p = new RetryPolicy({ backoffCoefficient: Number.POSITIVE_INFINITY, maximumIntervalMs: 0 });
    const text = encodeRetryPolicy(p);
    expect(text).toContain('"backoff_coefficient":1.7976931348623157e+308');
    const back = decodeRetryPolicy(text);
    for (const n of [1, 2, 3, 50]) expect(back.nextDelay(n)).toBe(p.nextDelay(n));
  });

  it("writes a TaskError's detail as the message, not 'kind: detail'", () => {
    const err = new TaskError("custom", "boom", { retryable: false });
    expect(err.message).toBe("custom: boom");
    expect(encodeTaskError(err)).toBe('{"kind":"custom","message":"boom","retryable":false}');
    const r: TaskResponse = { taskId: "t", error: err, attempts: 1, completedAt: new Date(0) };
    expect(encodeResponse(r)).toContain('"error":{"kind":"custom","message":"boom","retryable":false}');
  });

  it.each<[string, () => string, string]>([
    ["empty id", () => encodeTask({ ...base, id: "" }), 'field "id": must not be empty'],
    ["bad payload", () => encodeTask({ ...base, payload: "[1," }), 'field "payload": not valid JSON'],
    ["negative attempt", () => encodeTask({ ...base, attempt: -1 }), 'field "attempt": expected an integer ≥ 0'],
    ["invalid date", () => encodeTask({ ...base, enqueuedAt: new Date(Number.NaN) }), 'field "enqueued_at"'],
    ["bad policy", () => encodeTask({ ...base, retryPolicy: { ...new RetryPolicy().toData(), maximumAttempts: -1 } }), 'field "retry_policy": retry.maximumAttempts'],
    ["bad result", () => encodeResponse({ taskId: "t", result: "{", attempts: 1, completedAt: new Date(0) }), 'response: field "result": not valid JSON'],
  ])("refuses %s with EbindError naming the field", (_what, fn, message) => {
    expect(fn).toThrow(EbindError);
    expect(fn).toThrow(message);
  });
});

describe("decoding", () => {
  const ok = '"id":"a","name":"n","payload":[],"enqueued_at":"2026-01-01T00:00:00Z"';

  it("names the field and what was wrong", () => {
    expect(decodeFailure(() => decodeTask(`{${ok},"attempt":"x"}`)).detail).toBe('task envelope: field "attempt": expected an integer ≥ 0, got "x"');
    expect(decodeFailure(() => decodeTask(`{${ok},"attempt":1.0}`)).detail).toContain('field "attempt"');
    expect(decodeFailure(() => decodeTask(`{${ok},"attempt":-1}`)).detail).toContain('field "attempt"');
    expect(decodeFailure(() => decodeTask('{"name":"n","enqueued_at":"2026-01-01T00:00:00Z"}')).detail).toBe('task envelope: field "id": missing');
    expect(decodeFailure(() => decodeTask('{"id":"","name":"n"}')).detail).toBe('task envelope: field "id": must not be empty');
    expect(decodeFailure(() => decodeTask('{"id":1,"name":"n"}')).detail).toBe('task envelope: field "id": expected a string, got 1');
    expect(decodeFailure(() => decodeTask('{"id":"a","name":"n"}')).detail).toBe('task envelope: field "enqueued_at": missing');
    expect(decodeFailure(() => decodeTask(`{${ok},"deadline":"tomorrow"}`)).detail).toContain('field "deadline": not an RFC 3339 time');
    expect(decodeFailure(() => decodeTask(`{${ok},"deadline":5}`)).detail).toContain('field "deadline": expected an RFC 3339 time string');
    expect(decodeFailure(() => decodeTask(`{${ok},"trace_ctx":{"a":1}}`)).detail).toBe('task envelope: field "trace_ctx.a": expected a string, got 1');
    expect(decodeFailure(() => decodeTask(`{${ok},"trace_ctx":[]}`)).detail).toContain('field "trace_ctx": expected an object');
    expect(decodeFailure(() => decodeTask(`{${ok},"retry_policy":{"maximum_attempts":1.5}}`)).detail).toContain('field "retry_policy.maximum_attempts"');
    expect(decodeFailure(() => decodeTask(`{${ok},"retry_policy":{"initial_interval":-5}}`)).detail).toContain('field "retry_policy.initial_interval"');
    expect(decodeFailure(() => decodeTask(`{${ok},"retry_policy":{"backoff_coefficient":-1}}`)).detail).toBe(
      'task envelope: field "retry_policy": retry.backoffCoefficient must be a number ≥ 0 (0 means 1; Infinity is allowed), got -1',
    );
    expect(decodeFailure(() => decodeTask(`{${ok},"retry_policy":{"backoff_coefficient":1e400}}`)).detail).toContain('field "retry_policy.backoff_coefficient": expected a finite number');
    expect(decodeFailure(() => decodeTask(`{${ok},"retry_policy":{"initial_interval":9223372036854775807}}`)).detail).toContain("nanoseconds");
    expect(decodeFailure(() => decodeResponse('{"task_id":"t","error":{"retryable":"yes"},"completed_at":"2026-01-01T00:00:00Z"}')).detail).toBe(
      'response: field "error.retryable": expected a boolean, got "yes"',
    );
    expect(decodeFailure(() => decodeDlqEntry('{"task":{"id":"a","name":"n","enqueued_at":"2026-01-01T00:00:00Z","attempt":"2"},"error":{}}')).detail).toBe(
      'dlq entry: field "task.attempt": expected an integer ≥ 0, got "2"',
    );
    expect(decodeFailure(() => decodeDlqEntry('{"error":{},"dead_lettered_at":"2026-01-01T00:00:00Z"}')).detail).toBe('dlq entry: field "task": missing');
  });

  it("rejects non-JSON, non-objects and invalid UTF-8 as decode errors", () => {
    expect(decodeFailure(() => decodeTask("not json")).detail).toMatch(/^task envelope: invalid JSON at position 0/);
    expect(decodeFailure(() => decodeTask("[1]")).detail).toMatch(/expected a JSON object/);
    expect(decodeFailure(() => decodeTask(`{${ok}} trailing`)).detail).toMatch(/unexpected data/);
    expect(decodeFailure(() => decodeTask(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).detail).toBe("task envelope: not valid UTF-8");
    expect(decodeFailure(() => decodeResponse(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).detail).toMatch(/expected a JSON object/);
  });

  it("reads UTF-8 bytes", () => {
    const t = decodeTask(new TextEncoder().encode(`{${ok},"step_id":"é"}`));
    expect(t.stepId).toBe("é");
  });

  it("is lenient like Go: unknown fields, nulls, absent optionals, zero times and offsets", () => {
    const t = decodeTask(
      '{"id":"a","name":"n","payload":[1],"reply_to":null,"deadline":"0001-01-01T00:00:00Z","enqueued_at":"2026-05-01T12:00:00.123456789+02:00","future_field":{"x":[1,2]},"retry_policy":null,"trace_ctx":null}',
    );
    // The offset and nanoseconds a Date cannot hold are kept as text, for re-encoding (issue 15).
    expect(t).toStrictEqual({ id: "a", name: "n", payload: "[1]", enqueuedAt: new Date("2026-05-01T10:00:00.123Z"), enqueuedAtText: "2026-05-01T12:00:00.123456789+02:00", attempt: 0 });
    const zero = decodeResponse('{"task_id":"t","completed_at":"0001-01-01T00:00:00Z","result":null}');
    expect(zero.completedAt.getTime()).toBe(ZERO_TIME_MS);
    expect(zero.result).toBe("null");
    expect(encodeResponse(zero)).toBe('{"task_id":"t","result":null,"attempts":0,"completed_at":"0001-01-01T00:00:00Z"}');
  });

  it("decodes a task error with Go's zero values for absent fields", () => {
    expect(decodeTaskError("{}")).toStrictEqual({ kind: "", message: "", retryable: false });
  });
});

describe("round-trip properties", () => {
  const date = fc.date({ min: new Date("0001-01-01T00:00:00.001Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true });
  const text = fc.string({ unit: "binary", minLength: 1, maxLength: 20 });
  const optText = fc.option(text, { nil: undefined });
  const rawJson = fc.oneof(fc.json(), fc.bigInt().map((b) => `[${b}]`), fc.constant(`[${BIG}, 1e400, -0.0]`));
  const payload = fc.oneof(fc.array(fc.jsonValue()).map((a) => JSON.stringify(a)), fc.bigInt().map((b) => `[${b},"x"]`));
  const nanosMs = fc.integer({ min: 0, max: 2 ** 50 }).map((ns) => ns / 1e6);
  const policy: fc.Arbitrary<RetryPolicyData> = fc.record({
    initialIntervalMs: nanosMs,
    backoffCoefficient: fc.double({ min: 0, max: 1e9, noNaN: true }).map((x) => x + 0),
    maximumIntervalMs: nanosMs,
    maximumAttempts: fc.nat(),
    nonRetryableErrorKinds: fc.option(fc.array(text, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  });
  const task: fc.Arbitrary<Task> = fc.record({
    id: text,
    name: text,
    payload,
    replyTo: optText,
    deadline: fc.option(date, { nil: undefined }),
    enqueuedAt: date,
    attempt: fc.nat(),
    traceCtx: fc.option(fc.dictionary(text, fc.string({ unit: "binary" }), { minKeys: 1, maxKeys: 3 }), { nil: undefined }),
    dagId: optText,
    stepId: optText,
    retryPolicy: fc.option(policy, { nil: undefined }),
    target: optText,
    workerId: optText,
  });
  const taskError = fc.record({ kind: fc.string({ unit: "binary" }), message: fc.string({ unit: "binary" }), retryable: fc.boolean() });

  it("task: decode(encode(t)) equals t", () => {
    fc.assert(
      fc.property(task, (t) => {
        const encoded = encodeTask(t);
        expect(decodeTask(encoded)).toEqual(t);
        expect(decodeTask(new TextEncoder().encode(encoded))).toEqual(t);
        expect(encodeTask(decodeTask(encoded))).toBe(encoded);
      }),
    );
  });

  it("response: decode(encode(r)) equals r, result text kept exactly", () => {
    const response: fc.Arbitrary<TaskResponse> = fc.record({
      taskId: text,
      result: fc.option(rawJson, { nil: undefined }),
      error: fc.option(taskError, { nil: undefined }),
      attempts: fc.nat(),
      completedAt: date,
    });
    fc.assert(
      fc.property(response, (r) => {
        const back = decodeResponse(encodeResponse(r));
        expect(back).toEqual(r);
        expect(back.result).toBe(r.result?.trim());
      }),
    );
  });

  it("dlq entry: decode(encode(e)) equals e", () => {
    const entry: fc.Arbitrary<DlqEntry> = fc.record({ task, error: taskError, finalAttempt: fc.nat(), deadLetteredAt: date });
    fc.assert(
      fc.property(entry, (e) => {
        expect(decodeDlqEntry(encodeDlqEntry(e))).toEqual(e);
      }),
    );
  });
});
