// HeldEvents: in-progress acks for the events a scheduler holds, until each is released.
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import type { Delivery } from "../../../src/broker/port.js";
import { EVENT_ACK_WAIT_MS, HELD_EVENT_HEARTBEAT_MS, HeldEvents } from "../../../src/workflow/run/held-events.js";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function delivery(): Delivery & { workings: number } {
  const d = { workings: 0, working: () => void d.workings++ };
  return d as unknown as Delivery & { workings: number };
}

it("reports held events in progress more than twice per ack wait, and stops once each is released", () => {
  expect(HELD_EVENT_HEARTBEAT_MS * 3).toBeLessThan(EVENT_ACK_WAIT_MS);
  const held = new HeldEvents();
  const a = delivery();
  const b = delivery();
  held.hold(a);
  held.hold(b);
  vi.advanceTimersByTime(HELD_EVENT_HEARTBEAT_MS * 4);
  expect([a.workings, b.workings]).toEqual([4, 4]);
  held.release(a);
  vi.advanceTimersByTime(HELD_EVENT_HEARTBEAT_MS * 2);
  expect([a.workings, b.workings]).toEqual([4, 6]);
  held.release(b);
  expect(vi.getTimerCount()).toBe(0);
  held.hold(a);
  vi.advanceTimersByTime(HELD_EVENT_HEARTBEAT_MS);
  expect(a.workings).toBe(5);
  held.close();
  expect(vi.getTimerCount()).toBe(0);
});
