/**
 * The NATS JetStream backend of the broker port.
 * @module
 */
export { NatsBroker } from "./broker.js";
export { connectNats, MIN_SERVER_VERSION, redactServers } from "./connect.js";
export type { NatsConnectOptions } from "./connect.js";
export { NatsHeartbeats } from "./heartbeats.js";
export type { NatsThreadConnectOptions } from "./heartbeat-thread.js";
export { DEFAULT_PUBLISH_TIMEOUT_MS } from "./publish.js";
