/**
 * One abort listener per signal for every await that passed it (src/workflow/ops/abort-group.ts).
 */
import { getEventListeners } from "node:events";
import { expect, it } from "vitest";
import { joinAbort, leaveAbort, type AbortMember } from "../../../src/workflow/ops/abort-group.js";

function member(): AbortMember & { reasons: unknown[] } {
  const m = { reasons: [] as unknown[], onAbort: (reason: unknown) => void m.reasons.push(reason) };
  return m;
}

it("many members add one listener; the abort tells each remaining member once, with the reason", () => {
  const stop = new AbortController();
  const members = Array.from({ length: 1000 }, member);
  for (const m of members) joinAbort(stop.signal, m);
  expect(getEventListeners(stop.signal, "abort")).toHaveLength(1);
  leaveAbort(stop.signal, members[0]!);
  leaveAbort(stop.signal, members[0]!); // idempotent
  const reason = new Error("stop");
  stop.abort(reason);
  expect(members[0]!.reasons).toEqual([]);
  expect(members.slice(1).every((m) => m.reasons.length === 1 && m.reasons[0] === reason)).toBe(true);
  expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
});

it("the last member to leave removes the listener; a later member adds it again", () => {
  const stop = new AbortController();
  const a = member();
  const b = member();
  joinAbort(stop.signal, a);
  joinAbort(stop.signal, b);
  leaveAbort(stop.signal, a);
  expect(getEventListeners(stop.signal, "abort")).toHaveLength(1);
  leaveAbort(stop.signal, b);
  expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
  const c = member();
  joinAbort(stop.signal, c);
  expect(getEventListeners(stop.signal, "abort")).toHaveLength(1);
  stop.abort("why");
  expect(c.reasons).toEqual(["why"]);
  expect(a.reasons).toEqual([]);
});
