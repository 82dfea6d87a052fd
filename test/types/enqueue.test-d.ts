/**
 * Type tests of the typed API: enqueue checks argument types and count against the handler's own
 * signature (or a typed reference), and the awaited result has the handler's result type.
 */
import { describe, expectTypeOf, it } from "vitest";
import type { Client, Future } from "../../src/client/index.js";
import { defineHandler, taskRef, type HandlerContext } from "../../src/task/index.js";

interface User {
  readonly name: string;
  readonly age: number;
}

const greet = defineHandler("main.Greet", async (_ctx, name: string, excited: boolean) => `hello ${name}${excited ? "!" : ""}`);
const loadUser = defineHandler("users.load", async (_ctx, id: number): Promise<User> => ({ name: `u${id}`, age: 3 }));
const audit = defineHandler("audit.log", async (_ctx, _event: string): Promise<void> => {});
const syncSquare = defineHandler("math.square", (_ctx: HandlerContext, n: number) => n * n);
const remoteGreet = taskRef<(ctx: HandlerContext, name: string, excited: boolean) => Promise<string>>("main.Greet");

declare const client: Client;

describe("enqueue typing", () => {
  it("accepts the handler's argument types and types the result", async () => {
    const future = await client.enqueue(greet, "world", true);
    expectTypeOf(future).toEqualTypeOf<Future<string>>();
    expectTypeOf(await future.result()).toEqualTypeOf<string>();
    expectTypeOf(await (await client.enqueue(loadUser, 7)).result()).toEqualTypeOf<User>();
    expectTypeOf(await (await client.enqueue(audit, "login")).result()).toEqualTypeOf<void>();
    expectTypeOf(await (await client.enqueue(syncSquare, 4)).result()).toEqualTypeOf<number>();
    expectTypeOf(await (await client.enqueue(remoteGreet, "world", false)).result()).toEqualTypeOf<string>();
    expectTypeOf(await client.enqueueAsync(greet, "world", true)).toEqualTypeOf<string>();
    expectTypeOf(await (await client.enqueueWith(loadUser, { timeoutMs: 1000 }, 1)).result()).toEqualTypeOf<User>();
  });

  it("rejects wrong argument types and counts at compile time", async () => {
    // @ts-expect-error: name must be a string
    await client.enqueue(greet, 42, true);
    // @ts-expect-error: too few arguments
    await client.enqueue(greet, "world");
    // @ts-expect-error: too many arguments
    await client.enqueue(greet, "world", true, "extra");
    // @ts-expect-error: a typed reference checks the same way
    await client.enqueue(remoteGreet, "world", "yes");
    // @ts-expect-error: options come first in enqueueWith
    await client.enqueueWith(loadUser, 1, {});
    // @ts-expect-error: fire-and-forget is checked too
    await client.enqueueAsync(loadUser, "7");
  });

  it("a result of one type cannot be used as another", async () => {
    const user = await (await client.enqueue(loadUser, 1)).result();
    // @ts-expect-error: User is not a string
    const s: string = user;
    void s;
  });
});
