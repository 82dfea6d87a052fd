/**
 * The awaits' timer wheel (src/workflow/store/poll-wheel.ts): one timer for every poll, each poll
 * run once at (never before) its time, cancels honoured, and no timer left once nothing is scheduled.
 * Fake timers: nothing here depends on the machine's speed.
 */
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { PollWheel, type Polled } from "../../../src/workflow/store/poll-wheel.js";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** A poll that records the fake clock's time at each call. */
function polled(onPoll?: (self: Polled & { at: number[] }) => void): Polled & { at: number[] } {
  const p = { wheelSlot: -1, at: [] as number[], poll: () => {
    p.at.push(Date.now());
    onPoll?.(p);
  } };
  return p;
}

const wheel = (): PollWheel => new PollWheel(() => Date.now());

it("runs each poll once, not before its delay, on one timer however many are scheduled", () => {
  const w = wheel();
  const t0 = Date.now();
  const polls = Array.from({ length: 10_000 }, () => polled());
  polls.forEach((p, i) => w.schedule(p, 5000 + (i % 7)));
  const early = polled();
  w.schedule(early, 30);
  expect(vi.getTimerCount()).toBe(1);
  expect(w.size).toBe(10_001);
  vi.advanceTimersByTime(29);
  expect(early.at).toEqual([]);
  vi.advanceTimersByTime(1);
  expect(early.at).toEqual([t0 + 30]);
  vi.advanceTimersByTime(4969);
  expect(polls.every((p) => p.at.length === 0)).toBe(true);
  // A slot is at most 1/64 of the delay wide: a 5 s poll runs within 78 ms after its time.
  vi.advanceTimersByTime(6 + 78);
  polls.forEach((p, i) => {
    expect(p.at).toHaveLength(1);
    expect(p.at[0]! - (t0 + 5000 + (i % 7))).toBeGreaterThanOrEqual(0);
    expect(p.at[0]! - (t0 + 5000 + (i % 7))).toBeLessThanOrEqual(78);
  });
  vi.advanceTimersByTime(10_000);
  expect(polls.every((p) => p.at.length === 1)).toBe(true);
  expect(w.size).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
});

it("a cancelled poll never runs, and cancelling the last one stops the timer", () => {
  const w = wheel();
  const a = polled();
  const b = polled();
  w.schedule(a, 100);
  w.schedule(b, 200);
  w.cancel(a);
  w.cancel(a); // idempotent
  expect(w.size).toBe(1);
  w.cancel(b);
  expect(w.size).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  vi.advanceTimersByTime(1000);
  expect(a.at).toEqual([]);
  expect(b.at).toEqual([]);
});

it("rescheduling replaces the earlier poll; an earlier one re-arms the timer; a poll may reschedule itself", () => {
  const w = wheel();
  const t0 = Date.now();
  const late = polled();
  w.schedule(late, 1000);
  const soon = polled();
  w.schedule(soon, 10);
  vi.advanceTimersByTime(10);
  expect(soon.at).toEqual([t0 + 10]);
  w.schedule(late, 50); // replaces the 1000 ms one
  expect(w.size).toBe(1);
  const repeating = polled((p) => p.at.length < 3 && w.schedule(p, 20));
  w.schedule(repeating, 20);
  vi.advanceTimersByTime(2000);
  expect(late.at).toEqual([t0 + 60]);
  expect(repeating.at).toEqual([t0 + 30, t0 + 50, t0 + 70]);
  expect(vi.getTimerCount()).toBe(0);
});

it("a poll rescheduled with no delay waits for the next tick instead of running again at once", () => {
  const w = wheel();
  let runs = 0;
  const p = polled((self) => ++runs < 5 && w.schedule(self, 0));
  w.schedule(p, 0);
  vi.advanceTimersByTime(0);
  expect(runs).toBeLessThan(5);
  vi.advanceTimersByTime(10);
  expect(runs).toBe(5);
});
