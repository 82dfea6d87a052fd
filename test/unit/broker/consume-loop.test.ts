/**
 * The shared pull loop over the memory backend: pipelined pulls that never bring more deliveries
 * than there is room for, a constant-room consumer that keeps flowing past one batch, errors
 * recovered from, and a stop after which nothing more is handed over.
 */
import { afterEach, expect, it } from "vitest";
import { ConsumeLoop } from "../../../src/broker/consume-loop.js";
import type { Broker, ConsumerSpec, Delivery, PullOptions } from "../../../src/broker/port.js";
import { memoryBroker, type MemoryBroker } from "../../../src/memory/index.js";
import { eventually } from "../../support/queue.js";

const STREAM = "LOOP";
const spec: ConsumerSpec = { durable: "loop", filterSubject: "loop.>", ackWaitMs: 30_000, maxDeliver: -1 };
const brokers: MemoryBroker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.close();
});

async function setup(messages: number): Promise<MemoryBroker> {
  const broker = memoryBroker();
  brokers.push(broker);
  await broker.ensureStream({ name: STREAM, subjects: ["loop.>"], retention: "workqueue", maxAgeMs: 0, replicas: 1 });
  await broker.ensureConsumer(STREAM, spec);
  for (let i = 0; i < messages; i++) await broker.publish("loop.m", new TextEncoder().encode(String(i)));
  return broker;
}

/** The broker, with the pulls it is asked for recorded (size, and how many were open at once). */
function recordingPulls(broker: Broker): { broker: Broker; sizes: number[]; maxOpen: () => number } {
  const sizes: number[] = [];
  let open = 0;
  let maxOpen = 0;
  const wrapped = Object.create(broker) as Broker;
  wrapped.pull = (stream: string, durable: string, options: PullOptions) => {
    sizes.push(options.max);
    const inner = broker.pull(stream, durable, options);
    return (async function* () {
      open++;
      maxOpen = Math.max(maxOpen, open);
      try {
        yield* inner;
      } finally {
        open--;
      }
    })();
  };
  return { broker: wrapped, sizes, maxOpen: () => maxOpen };
}

it("pipelines pulls yet never holds more deliveries than the room it was given", async () => {
  const capacity = 8;
  const base = await setup(200);
  const { broker, sizes, maxOpen } = recordingPulls(base);
  const held: Delivery[] = [];
  let handled = 0;
  let peak = 0;
  let changed: () => void = () => undefined;
  const loop = new ConsumeLoop({
    broker,
    stream: STREAM,
    consumer: spec,
    room: () => capacity - held.length,
    roomChanged: () => new Promise<void>((resolve) => (changed = resolve)),
    onDelivery: (d) => {
      held.push(d);
      peak = Math.max(peak, held.length);
    },
    pullExpiresMs: 1000,
  });
  // Settle deliveries one at a time, a little later, as a slow handler would.
  const settler = setInterval(() => {
    const d = held.shift();
    if (d) {
      d.ack();
      handled++;
      changed();
    }
  }, 1);
  try {
    await eventually(() => handled === 200, "all 200 deliveries handled");
  } finally {
    clearInterval(settler);
    await loop.stop();
  }
  expect(peak).toBeLessThanOrEqual(capacity);
  expect(Math.max(...sizes)).toBeLessThanOrEqual(capacity);
  expect(maxOpen()).toBeGreaterThan(1); // a second pull was asked for while the first was open
  expect((await base.streamState(STREAM))?.messages).toBe(0);
});

it("without a room function, keeps pulling past one batch as deliveries are handled", async () => {
  const broker = await setup(700);
  let handled = 0;
  const loop = new ConsumeLoop({
    broker,
    stream: STREAM,
    consumer: spec,
    onDelivery: (d) => {
      d.ack();
      handled++;
    },
    maxBatch: 100,
    pullExpiresMs: 1000,
  });
  try {
    await eventually(() => handled === 700, "all 700 deliveries handled");
  } finally {
    await loop.stop();
  }
  expect((await broker.streamState(STREAM))?.messages).toBe(0); // every delivery was acked
});

it("recreates a consumer that disappears and reports the error", async () => {
  const broker = await setup(0);
  const errors: unknown[] = [];
  let handled = 0;
  const loop = new ConsumeLoop({
    broker,
    stream: STREAM,
    consumer: spec,
    onDelivery: (d) => {
      d.ack();
      handled++;
    },
    onError: (err) => errors.push(err),
    pullExpiresMs: 1000,
  });
  try {
    await broker.deleteConsumer(STREAM, spec.durable);
    await eventually(() => errors.length > 0, "the pull error reported");
    await broker.publish("loop.m", new TextEncoder().encode("after"));
    await eventually(() => handled === 1, "a delivery from the re-created consumer");
  } finally {
    await loop.stop();
  }
  expect(errors[0]).toMatchObject({ code: "not_found" });
  expect(String(errors[0])).toContain("consumer LOOP/loop was deleted");
});

it("hands nothing over once stop has resolved; what was not delivered stays in the stream", async () => {
  const broker = await setup(0);
  let handled = 0;
  const loop = new ConsumeLoop({ broker, stream: STREAM, consumer: spec, onDelivery: () => handled++, pullExpiresMs: 1000 });
  await loop.stop();
  await broker.publish("loop.m", new TextEncoder().encode("late"));
  await new Promise((r) => setTimeout(r, 50));
  expect(handled).toBe(0);
  expect((await broker.streamState(STREAM))?.messages).toBe(1);
});

it("consuming: false after a failed or unanswered pull, true again once a pull is served", async () => {
  const base = await setup(0);
  let mode: "serve" | "fail" | "unanswered" = "serve";
  const wrapped = Object.create(base) as Broker;
  wrapped.pull = (stream: string, durable: string, options: PullOptions) => {
    const current = mode;
    if (current === "serve") return base.pull(stream, durable, options);
    return (async function* (): AsyncGenerator<Delivery> {
      await new Promise((r) => setTimeout(r, 20));
      if (current === "fail") throw new Error("boom");
      options.onUnconfirmedEnd?.();
      yield* []; // ends without a delivery
    })();
  };
  const loop = new ConsumeLoop({ broker: wrapped, stream: STREAM, consumer: spec, onDelivery: (d) => d.ack(), pullExpiresMs: 1000 });
  try {
    expect(loop.consuming).toBe(true);
    mode = "unanswered";
    await eventually(() => !loop.consuming, "not consuming after an unanswered pull");
    mode = "serve";
    await base.publish("loop.m", new TextEncoder().encode("x"));
    await eventually(() => loop.consuming, "consuming once a pull delivered");
    mode = "fail";
    await base.publish("loop.m", new TextEncoder().encode("y")); // ends the open pull: the next one fails
    await eventually(() => !loop.consuming, "not consuming after a failed pull");
    mode = "serve";
    await base.publish("loop.m", new TextEncoder().encode("z"));
    await eventually(() => loop.consuming, "consuming again");
  } finally {
    await loop.stop();
  }
});

it("consuming: false while a pull goes unserved past its expiry (a set-up stuck on a leaderless consumer)", async () => {
  const base = await setup(0);
  let hang = true;
  const wrapped = Object.create(base) as Broker;
  wrapped.pull = (stream: string, durable: string, options: PullOptions) => {
    if (!hang) return base.pull(stream, durable, options);
    // Neither delivers nor ends until the loop stops: what a consumer lookup waiting on a dead leader looks like.
    return (async function* (): AsyncGenerator<Delivery> {
      await new Promise<void>((resolve) => options.signal?.addEventListener("abort", () => resolve(), { once: true }));
      yield* [];
    })();
  };
  const loop = new ConsumeLoop({ broker: wrapped, stream: STREAM, consumer: spec, onDelivery: (d) => d.ack(), pullExpiresMs: 1000, drainOnStop: false });
  try {
    expect(loop.consuming).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect(loop.consuming).toBe(true); // within its expiry and grace: nothing says it is stuck yet
    await eventually(() => !loop.consuming, "not consuming once the pull is unserved past expiry + 1 s", 5000);
    hang = false;
  } finally {
    await loop.stop();
  }
});
