/**
 * The fault tests' shared set-up, for one describe block: before its tests, a 3-node cluster and a
 * producer connected to it ({@link startChaosCluster}, {@link openChaosApp}); after them, every
 * worker process still running SIGKILLed, the producer closed and the cluster stopped. Kept apart
 * from app.ts and procs.ts, which stay free of vitest for the soak (scripts/chaos.ts).
 * @module
 */
import { afterAll, beforeAll } from "vitest";
import type { NatsCluster } from "../../../src/embed/index.js";
import { openChaosApp, startChaosCluster, type ChaosApp } from "./app.js";
import { FaultProcs } from "./procs.js";

/** What {@link useChaosApp} set up; read `cluster` and `app` inside a test. */
export interface ChaosSuite {
  /**
   * The 3-node cluster.
   * @throws Error when read before the describe block's beforeAll started it.
   */
  readonly cluster: NatsCluster;
  /**
   * The producer (client + workflow handle) connected to every node.
   * @throws Error when read before the describe block's beforeAll opened it.
   */
  readonly app: ChaosApp;
  /** The worker processes of the describe block; its afterAll SIGKILLs the ones still running. */
  readonly procs: FaultProcs;
}

/**
 * Registers the beforeAll and afterAll described in the module doc in the calling describe block
 * (call it once there, at its top).
 * @returns getters for the cluster and the producer, and the block's {@link FaultProcs}.
 */
export function useChaosApp(): ChaosSuite {
  let cluster: NatsCluster | undefined;
  let app: ChaosApp | undefined;
  const procs = new FaultProcs();

  beforeAll(async () => {
    cluster = await startChaosCluster();
    app = await openChaosApp(cluster);
  });
  afterAll(async () => {
    await procs.killAll();
    await app?.close();
    await cluster?.stop();
  });

  const started = <T>(what: string, value: T | undefined): T => {
    if (value === undefined) throw new Error(`useChaosApp: the ${what} is not started yet (read it inside a test, after beforeAll)`);
    return value;
  };
  return {
    get cluster() {
      return started("cluster", cluster);
    },
    get app() {
      return started("app", app);
    },
    procs,
  };
}
