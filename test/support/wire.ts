/**
 * Assertions shared by the codec tests.
 * @module
 */
import { expect } from "vitest";
import { TaskError } from "../../src/task/index.js";

/** Runs `fn`, expects it to throw a non-retryable `decode` TaskError, and returns that error. */
export function decodeFailure(fn: () => unknown): TaskError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TaskError);
    const err = e as TaskError;
    expect(err.kind).toBe("decode");
    expect(err.retryable).toBe(false);
    return err;
  }
  throw new Error("expected a decode failure");
}
