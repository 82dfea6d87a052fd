/**
 * Which `completed` events the scheduler ignores (run/scheduler.ts staleCompletion). Issue 12: a DLQ
 * requeue reopens a failed step; the failure event of its earlier start, delivered again after
 * that, must not fail it in memory and skip its dependents again.
 */
import { describe, expect, it } from "vitest";
import { decodeDagEvent, encodeDagEvent } from "../../../src/workflow/model/codec.js";
import type { DagEvent } from "../../../src/workflow/model/records.js";
import { staleCompletion } from "../../../src/workflow/run/scheduler.js";
import { T0, step } from "./helpers.js";

const FIRST = new Date(T0.getTime() + 1000);
const REOPENED = new Date(T0.getTime() + 60_000);
const failedEvent = (startedAt?: Date): DagEvent => ({ kind: "completed", dagId: "d1", stepId: "a", status: "failed", errorKind: "boom", stepAddedAt: T0, stepStartedAt: startedAt });

describe("staleCompletion", () => {
  it("an event of an earlier start than the record's is stale; of this start (or a later one a lagging read has not shown) it is not", () => {
    const reopened = step("a", { status: "running", attempt: 1, startedAt: REOPENED });
    expect(staleCompletion(failedEvent(FIRST), reopened)).toBe(true);
    expect(staleCompletion(failedEvent(REOPENED), reopened)).toBe(false);
    expect(staleCompletion(failedEvent(REOPENED), step("a", { status: "running", attempt: 1, startedAt: FIRST }))).toBe(false);
  });

  it("events without the start (ebind for Go) are judged as before", () => {
    expect(staleCompletion(failedEvent(undefined), step("a", { status: "running", attempt: 1, startedAt: REOPENED }))).toBe(false);
    expect(staleCompletion(failedEvent(undefined), step("a", { status: "pending" }))).toBe(true);
  });

  it("step_started_at round-trips on the wire, after step_added_at", () => {
    const text = encodeDagEvent(failedEvent(FIRST));
    expect(text).toMatch(/"step_added_at":"[^"]+","step_started_at":"2026-05-01T10:00:01Z"}$/);
    expect(decodeDagEvent(text).stepStartedAt).toEqual(FIRST);
  });
});
