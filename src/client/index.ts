/**
 * The producer side: {@link Client} and {@link Future}.
 * @module
 */
export { Client } from "./client.js";
export type { Enqueueable } from "./client.js";
export { Future } from "./future.js";
export type { AwaitOptions } from "./future.js";
export { DEFAULT_RESPONSE_INACTIVE_MS } from "./options.js";
export type { ClientOptions, EnqueueOptions } from "./options.js";
export { pauseTask, resumeTask, listPausedTasks } from "./task-pauses.js";
export type { TaskNameOf, TaskResume } from "./task-pauses.js";
