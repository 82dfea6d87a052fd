/**
 * `ebind/testing`: one call for a ready environment in your own tests.
 *
 * @example
 * import { createTestEnv } from "ebind/testing";
 * await using env = await createTestEnv({ handlers: [sendEmail] });
 * const outcome = await env.outcome(await env.client.enqueue(sendEmail, "ann@example.com"));
 * @module
 */
export { createTestEnv } from "./env.js";
export type { TestEnv, TestEnvOptions, TaskOutcome } from "./env.js";
