/**
 * ManualClock: time moves only when told; timers fire in time order inside advance/set, and the
 * promise chains they start run before advance resolves.
 */
import { describe, expect, it } from "vitest";
import { ManualClock, systemClock } from "../../../src/broker/index.js";

describe("ManualClock", () => {
  it("starts at the given instant and only moves on advance/set", async () => {
    const clock = new ManualClock(1000);
    expect(clock.now()).toBe(1000);
    await clock.advance(250);
    expect(clock.now()).toBe(1250);
    await clock.set(5000);
    expect(clock.now()).toBe(5000);
    await expect(clock.set(4000)).rejects.toThrow(RangeError);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });

  it("fires due timers in time order (ties in the order set), each seeing its own due time", async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimer(() => fired.push(`c@${clock.now()}`), 300);
    clock.setTimer(() => fired.push(`a@${clock.now()}`), 100);
    clock.setTimer(() => fired.push(`b1@${clock.now()}`), 200);
    clock.setTimer(() => fired.push(`b2@${clock.now()}`), 200);
    clock.setTimer(() => fired.push("late"), 301);
    await clock.advance(299);
    expect(fired).toEqual(["a@100", "b1@200", "b2@200"]);
    await clock.advance(1);
    expect(fired).toEqual(["a@100", "b1@200", "b2@200", "c@300"]);
    expect(clock.pendingTimers).toBe(1);
  });

  it("fires timers set by callbacks when they fall due inside the same advance", async () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(clock.now());
      if (fired.length < 5) clock.setTimer(tick, 100);
    };
    clock.setTimer(tick, 100);
    await clock.advance(350);
    expect(fired).toEqual([100, 200, 300]);
    expect(clock.now()).toBe(350);
  });

  it("a cleared timer never fires; zero and negative delays fire on the next advance", async () => {
    const clock = new ManualClock(0);
    let fired = 0;
    const h = clock.setTimer(() => fired++, 10);
    clock.clearTimer(h);
    clock.clearTimer(h); // twice is fine
    clock.setTimer(() => fired++, -5);
    await clock.advance(0);
    expect(fired).toBe(1);
    await clock.advance(100);
    expect(fired).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it("lets promise chains started by a timer run before advance resolves", async () => {
    const clock = new ManualClock(0);
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimer(resolve, ms));
    const steps: string[] = [];
    const chain = (async () => {
      await sleep(100);
      steps.push("one");
      await Promise.resolve();
      await sleep(100); // set from inside the chain, still due within the advance
      steps.push("two");
    })();
    await clock.advance(200);
    expect(steps).toEqual(["one", "two"]);
    await chain;
  });
});

describe("systemClock", () => {
  it("reads Date.now and runs and clears real timers", async () => {
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(50);
    let fired = false;
    const cleared = systemClock.setTimer(() => (fired = true), 5);
    systemClock.clearTimer(cleared);
    await new Promise<void>((resolve) => systemClock.setTimer(resolve, 20));
    expect(fired).toBe(false);
  });
});
