/**
 * One timer for every poll of a process (issue 14): the awaits' backstop re-reads are scheduled on
 * a wheel instead of a `setTimeout` each, so 10,000 outstanding awaits hold 10,000 set entries and
 * one timer, not 10,000 timers and their closures.
 *
 * Each poll is due at a time rounded up to a slot: 1 ms for delays under 128 ms, then a power of two
 * no more than 1/64 of the delay (64 ms for the default 5 s), so a poll runs at most that much late and
 * the slots of one delay within one window stay at about a hundred, whatever the number of polls. The
 * timer is armed for the earliest slot; it holds the process open while anything is scheduled, as
 * the timers it replaces did.
 * @module
 */

/** The longest delay a Node.js timer takes. */
const MAX_TIMER_MS = 2_147_483_647;

/** What a wheel polls. Its `wheelSlot` is the wheel's bookkeeping: only the wheel writes it. */
export interface Polled {
  /** The slot (a due time in ms on the wheel's clock) it is scheduled in; -1 when in none. */
  wheelSlot: number;
  /** Its time came (it is no longer scheduled). Must not throw. */
  poll(): void;
}

/** A process's timer wheel of polls. */
export class PollWheel {
  /** The polls by slot. A slot stays until due even when emptied, so the heap holds each slot once. */
  readonly #slots = new Map<number, Set<Polled>>();
  /** The slots, as a binary min-heap. */
  readonly #heap: number[] = [];
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The slot the timer is armed for (Infinity when unarmed). */
  #armed = Infinity;

  /** @param now the clock, in ms (monotonic). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Polls scheduled now (for tests and benchmarks). */
  get size(): number {
    return this.#count;
  }

  /**
   * Schedules one poll of `polled` in `delayMs` (≥ 0; rounded up to its slot), replacing the one it had.
   * `polled.poll()` is then called once, from the timer.
   */
  schedule(polled: Polled, delayMs: number): void {
    this.cancel(polled);
    const now = this.now();
    const grain = slotMs(delayMs);
    // Never the slot being run now: a poll that reschedules itself with no delay waits for the next tick.
    const slot = Math.max(Math.ceil((now + delayMs) / grain) * grain, Math.floor(now) + 1);
    let polls = this.#slots.get(slot);
    if (polls === undefined) {
      polls = new Set();
      this.#slots.set(slot, polls);
      push(this.#heap, slot);
    }
    polls.add(polled);
    polled.wheelSlot = slot;
    this.#count++;
    if (slot < this.#armed) this.#arm();
  }

  /** Unschedules `polled`'s poll, if it has one. */
  cancel(polled: Polled): void {
    const slot = polled.wheelSlot;
    if (slot < 0) return;
    polled.wheelSlot = -1;
    if (this.#slots.get(slot)?.delete(polled) !== true) return;
    if (--this.#count === 0) this.#reset();
  }

  /** Nothing is scheduled: forgets the emptied slots and stops the timer, so the process may exit. */
  #reset(): void {
    this.#slots.clear();
    this.#heap.length = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armed = Infinity;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    const slot = this.#heap[0];
    if (slot === undefined) {
      this.#timer = undefined;
      this.#armed = Infinity;
      return;
    }
    this.#armed = slot;
    // A timer holds at most MAX_TIMER_MS; one that fires early finds nothing due and arms again.
    this.#timer = setTimeout(PollWheel.#tick, Math.min(MAX_TIMER_MS, Math.max(0, slot - this.now())), this);
  }

  static #tick(this: void, wheel: PollWheel): void {
    wheel.#timer = undefined;
    wheel.#armed = Infinity;
    const now = wheel.now();
    const heap = wheel.#heap;
    while (heap.length > 0 && heap[0]! <= now) {
      const slot = pop(heap);
      const polls = wheel.#slots.get(slot);
      wheel.#slots.delete(slot);
      if (polls === undefined) continue;
      for (const polled of polls) {
        polled.wheelSlot = -1;
        wheel.#count--;
      }
      for (const polled of polls) polled.poll();
    }
    if (wheel.#count === 0) wheel.#reset();
    else if (wheel.#timer === undefined) wheel.#arm();
  }
}

/** The slot width for a delay: 1 ms under 128 ms, else the largest power of two ≤ delay / 64. */
function slotMs(delayMs: number): number {
  return delayMs < 128 ? 1 : 2 ** Math.floor(Math.log2(delayMs / 64));
}

function push(heap: number[], value: number): void {
  let i = heap.push(value) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= value) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = value;
}

function pop(heap: number[]): number {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
    if (heap[child]! >= last) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
  return top;
}
