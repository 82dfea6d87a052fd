/**
 * Dead-letter operations: list, show, requeue, purge.
 * @module
 */
export { listDeadLetters, getDeadLetter, requeueDeadLetter, purgeDeadLetters } from "./dead-letters.js";
export type { DeadLetter, ListOptions, PrepareRequeue, Requeued, RequeueOptions } from "./dead-letters.js";
