/**
 * wireSafe: every failure fits a DLQ entry (issue 12 break test: a 100 KiB error kind was never
 * recorded, so the task ran again every 5 minutes for ever).
 */
import { describe, expect, it } from "vitest";
import { TaskError } from "../../../src/task/index.js";
import { MAX_ERROR_DETAIL_CHARS, MAX_ERROR_KIND_CHARS, wireSafe } from "../../../src/worker/settle.js";

describe("wireSafe", () => {
  it("cuts an over-long kind as it cuts an over-long message", () => {
    const safe = wireSafe(new TaskError("k".repeat(100 * 1024), "x".repeat(20_000), { retryable: false }));
    expect(safe.kind.length).toBe(MAX_ERROR_KIND_CHARS + 1);
    expect(safe.kind.endsWith("…")).toBe(true);
    expect(safe.detail.length).toBeLessThan(MAX_ERROR_DETAIL_CHARS + 100);
    expect(safe.retryable).toBe(false);
  });

  it("leaves an ordinary error as it is", () => {
    const error = new TaskError("card_declined", "insufficient funds", { retryable: false });
    expect(wireSafe(error)).toBe(error);
  });
});
