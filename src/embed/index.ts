/**
 * Start and stop `nats-server` child processes: one JetStream node, or a cluster on loopback.
 * For development, tests and tools; production connects to an existing NATS deployment.
 *
 * @example
 * import { startNode, startCluster } from "ebind/embed";
 *
 * await using node = await startNode();            // random port, temp store, removed on stop
 * const nc = await connect({ servers: node.url });
 *
 * await using cluster = await startCluster({ size: 3 });
 * await cluster.waitReady();                       // before creating R3 streams
 *
 * Reference: ebind-reference.md §1.6, §3.28; DESIGN.md §5.
 * @module
 */
export { findNatsServer, requireNatsServer, NATS_SERVER_BIN_ENV } from "./binary.js";
export { startNode, DEFAULT_NODE_READY_TIMEOUT_MS, STOP_GRACE_MS } from "./node.js";
export type { NatsNode, NodeOptions } from "./node.js";
export { startCluster, DEFAULT_CLUSTER_READY_TIMEOUT_MS } from "./cluster.js";
export type { NatsCluster, ClusterOptions } from "./cluster.js";
export { freePorts } from "./ports.js";
export { liveChildPids } from "./children.js";
