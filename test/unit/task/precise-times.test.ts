/**
 * Issue 15: a task from Go carries times with nanoseconds and, on a machine whose zone is not UTC,
 * a local offset (Go's `time.Time` writes both). A `Date` holds milliseconds; the codec keeps the
 * wire text beside it and writes it back while the time is unchanged, so a DLQ entry or a requeue
 * made by a TypeScript worker carries Go's precision on.
 */
import { describe, expect, it } from "vitest";
import { decodeDlqEntry, decodeTask, encodeDlqEntry, encodeTask, TaskError, ZERO_TIME_MS } from "../../../src/task/index.js";

const GO_TASK = JSON.stringify({
  id: "t-go",
  name: "billing.Charge",
  payload: [1],
  deadline: "2026-12-07T15:04:05.123456789+01:00",
  enqueued_at: "2026-12-07T14:03:05.000000001Z",
  attempt: 0,
});

describe("times from Go keep their precision through the codec", () => {
  it("a decoded task re-encodes its nanoseconds and offset exactly", () => {
    const task = decodeTask(GO_TASK);
    expect(task.deadline?.toISOString()).toBe("2026-12-07T14:04:05.123Z");
    expect(task.deadlineText).toBe("2026-12-07T15:04:05.123456789+01:00");
    expect(task.enqueuedAtText).toBe("2026-12-07T14:03:05.000000001Z");
    const again = JSON.parse(encodeTask({ ...task, attempt: 3, workerId: "ts-1" })) as Record<string, unknown>;
    expect(again.deadline).toBe("2026-12-07T15:04:05.123456789+01:00");
    expect(again.enqueued_at).toBe("2026-12-07T14:03:05.000000001Z");
  });

  it("a DLQ entry keeps them, and reading the entry back keeps them again", () => {
    const task = decodeTask(GO_TASK);
    const body = encodeDlqEntry({ task, error: new TaskError("handler", "no").toData(), finalAttempt: 1, deadLetteredAt: new Date() });
    expect(body).toContain('"deadline":"2026-12-07T15:04:05.123456789+01:00"');
    const entry = decodeDlqEntry(body);
    expect(JSON.parse(encodeTask(entry.task))).toMatchObject({ deadline: "2026-12-07T15:04:05.123456789+01:00", enqueued_at: "2026-12-07T14:03:05.000000001Z" });
  });

  it("a changed time is written from the Date; times a Date holds exactly keep no text", () => {
    const task = decodeTask(GO_TASK);
    const moved = JSON.parse(encodeTask({ ...task, deadline: new Date("2027-01-01T00:00:00.5Z") })) as Record<string, unknown>;
    expect(moved.deadline).toBe("2027-01-01T00:00:00.5Z");
    const plain = decodeTask(JSON.stringify({ id: "t", name: "n", payload: [], deadline: "2026-12-07T14:04:05.123Z", enqueued_at: "2026-12-07T14:04:05Z", attempt: 0 }));
    expect(plain.deadlineText).toBeUndefined();
    expect(plain.enqueuedAtText).toBeUndefined();
    const unset = decodeTask(JSON.stringify({ id: "t", name: "n", payload: [], deadline: null, enqueued_at: "0001-01-01T00:00:00Z", attempt: 0 }));
    expect(unset.deadline).toBeUndefined();
    expect(unset.deadlineText).toBeUndefined();
  });

  it("a null required time reads as Go's zero time (Go's decoder leaves it unset); an absent one is refused", () => {
    const nullTime = decodeTask(JSON.stringify({ id: "t", name: "n", payload: [], enqueued_at: null }));
    expect(nullTime.enqueuedAt.getTime()).toBe(ZERO_TIME_MS);
    expect(() => decodeTask(JSON.stringify({ id: "t", name: "n", payload: [] }))).toThrow(/field "enqueued_at": missing/);
  });
});
