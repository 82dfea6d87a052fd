/**
 * Test wiring for the task queue over a real node: a broker with the streams, a registry, and
 * helpers to start workers and clients that are closed after each test.
 * @module
 */
import { silentLogger, type Broker } from "../../src/broker/index.js";
import { Client } from "../../src/client/index.js";
import { Registry } from "../../src/task/index.js";
import { Worker, type WorkerOptions } from "../../src/worker/index.js";
import { openFreshBroker, useCleanups, type BackendUnderTest } from "./backends.js";

/** One test's world: created fresh per test, torn down in afterEach. */
export interface QueueEnv {
  broker: Broker;
  registry: Registry;
  client: Client;
  startWorker: (options?: WorkerOptions, registry?: Registry) => Promise<Worker>;
  newClient: () => Promise<Client>;
}

/**
 * Returns a function that builds a {@link QueueEnv} on the backend; everything it made is closed
 * after the test. Each env purges the task-queue streams first so tests do not see each other's
 * messages (a NATS node is shared by the tests of a file).
 */
export function useQueueEnv(backend: BackendUnderTest): () => Promise<QueueEnv> {
  const cleanups = useCleanups();
  return async () => {
    const broker = await openFreshBroker(backend, cleanups);
    const registry = new Registry();
    const newClient = async (): Promise<Client> => {
      const c = await Client.create(broker, { logger: silentLogger });
      cleanups.push(() => c.close());
      return c;
    };
    const client = await newClient();
    return {
      broker,
      registry,
      client,
      newClient,
      startWorker: async (options: WorkerOptions = {}, reg: Registry = registry) => {
        const w = await Worker.start(broker, reg, { logger: silentLogger, pullExpiresMs: 1000, ...options });
        cleanups.push(() => w.close());
        return w;
      },
    };
  };
}

/** Polls `check` every 20 ms until it returns true or `timeoutMs` passes (then throws `what`). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Waits until `stream` holds no messages. Acks and terms are not confirmed round trips, so the
 * server may apply them a moment after the outcome reached the producer.
 */
export async function expectEmpty(broker: Broker, stream: string, timeoutMs = 5000): Promise<void> {
  await eventually(async () => (await broker.streamState(stream))?.messages === 0, `stream ${stream} to be empty`, timeoutMs);
}
