/**
 * The deliveries a worker holds, and where each one stands: `queued` (waiting for a slot), `held`
 * (to be handed back to another worker), `running` (its handler runs), `settling` (its outcome is
 * being recorded). Heartbeats go to all of them; a shutdown that runs out of grace ends each by its
 * phase (issue 12: a handed-back attempt ends in nothing but the hand-back).
 * @module
 */
import { taskFields, type Logger } from "../broker/logger.js";
import { deliveryFields } from "./log-fields.js";
import type { Broker, Delivery } from "../broker/port.js";
import type { Task } from "../task/envelope.js";
import { HandedBack } from "./dispatch.js";
import { handBack } from "./hand-back.js";
import type { LazyAbort } from "./lazy-abort.js";

/** Where one delivery stands. */
export type Phase = "queued" | "held" | "running" | "settling";

/** One delivery this worker holds. */
export interface Held {
  phase: Phase;
  controller?: LazyAbort | undefined;
  task?: Task | undefined;
  /** Given back by the shutdown: whoever still holds the delivery must not settle it. */
  gone: boolean;
}

/** The table of held deliveries. */
export class InFlight {
  readonly #entries = new Map<Delivery, Held>();

  /** Starts holding a delivery (phase `queued`). */
  add(delivery: Delivery): Held {
    const held: Held = { phase: "queued", gone: false };
    this.#entries.set(delivery, held);
    return held;
  }

  delete(delivery: Delivery): void {
    this.#entries.delete(delivery);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Every held delivery (for in-progress acks). */
  deliveries(): IterableIterator<Delivery> {
    return this.#entries.keys();
  }

  /**
   * At the end of the shutdown grace: aborts running handlers with {@link HandedBack} and gives
   * every delivery not being settled back to the queue without spending an attempt — an attempt our
   * own shutdown cut short is not the task's (a task on its last allowed attempt would otherwise be
   * dead-lettered as `max_deliver` by the next worker). Leaves those whose outcome is being recorded.
   * Returns how many handlers were running, and a promise that settles when every hand-back is done.
   */
  handBackAll(broker: Broker, logger: Logger): { running: number; done: Promise<void> } {
    let running = 0;
    const handBacks: Array<Promise<void>> = [];
    for (const [delivery, held] of this.#entries) {
      if (held.gone || held.phase === "settling") continue;
      held.gone = true;
      if (held.phase === "running") {
        running++;
        held.controller?.abort(new HandedBack());
      }
      handBacks.push(
        handBack(broker, delivery).catch((err: unknown) => {
          const error = (err as Error).message;
          const fields = held.task ? taskFields(held.task, { subject: delivery.subject, seq: delivery.streamSeq, error }) : deliveryFields(delivery, { error });
          logger.warn(fields, "worker: could not hand a task back at shutdown; nak'ing it");
          delivery.nak();
        }),
      );
    }
    return { running, done: Promise.all(handBacks).then(() => undefined) };
  }
}
