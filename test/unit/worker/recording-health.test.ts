// RecordingHealth: what makes a worker not ready while its outcomes cannot be stored.
import { expect, it } from "vitest";
import { RECORDING_FAILED_MS, RECORDING_STUCK_MS, RecordingHealth } from "../../../src/worker/recording-health.js";

it("unhealthy while a recording waits longer than the stuck limit, and for a while after one failed", () => {
  let now = 1_000_000;
  const health = new RecordingHealth(() => now);
  const a = {};
  const b = {};
  expect(health.healthy()).toBe(true);
  health.begin(a);
  now += RECORDING_STUCK_MS;
  expect(health.healthy()).toBe(true); // slow, not stuck yet
  health.begin(b);
  now += 1;
  expect(health.healthy()).toBe(false); // a is stuck
  health.end(a, true);
  expect(health.healthy()).toBe(true); // b has waited 1 ms
  health.end(b, false);
  expect(health.healthy()).toBe(false); // the last one failed
  now += RECORDING_FAILED_MS - 1;
  expect(health.healthy()).toBe(false);
  now += 1;
  expect(health.healthy()).toBe(true); // an idle worker is not unready for good
  health.begin(a);
  health.end(a, false);
  health.begin(b);
  health.end(b, true);
  expect(health.healthy()).toBe(true); // a success clears a failure at once
});
