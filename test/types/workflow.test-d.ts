/**
 * Type tests of the DAG builder: a step's arguments are checked against its handler, refs included
 * (a step returning User cannot feed a string parameter), and awaited results are typed.
 */
import { describe, expectTypeOf, it } from "vitest";
import { defineHandler } from "../../src/task/index.js";
import { z } from "zod";
import { defineSignal, signalRef, type Workflow } from "../../src/workflow/index.js";

interface User {
  readonly name: string;
}

const fetchUser = defineHandler("users.fetch", async (_ctx, id: string): Promise<User> => ({ name: id }));
const greetUser = defineHandler("users.greet", async (_ctx, user: User, excited: boolean) => `hi ${user.name}${excited ? "!" : ""}`);
const shout = defineHandler("text.shout", async (_ctx, text: string) => text.toUpperCase());
const audit = defineHandler("audit.log", async (_ctx, _event: string): Promise<void> => {});

declare const workflow: Workflow;

describe("DAG builder typing", () => {
  it("accepts refs of the right type and types awaited results", async () => {
    const dag = workflow.dag();
    const user = dag.step("user", fetchUser, "u1");
    const greeting = dag.step("greet", greetUser, user.ref(), true);
    const loud = dag.step("shout", shout, greeting.ref());
    dag.step("fallback", shout, greeting.refOrDefault("nobody"));
    const logged = dag.step("audit", audit, "done").after(loud).optional();
    expectTypeOf(await workflow.await(user)).toEqualTypeOf<User>();
    expectTypeOf(await workflow.await(loud)).toEqualTypeOf<string>();
    expectTypeOf(await workflow.await(logged)).toEqualTypeOf<void>();
  });

  it("rejects refs and literals of the wrong type or count", () => {
    const dag = workflow.dag();
    const user = dag.step("user", fetchUser, "u1");
    // @ts-expect-error: a User ref cannot feed a string parameter
    dag.step("bad", shout, user.ref());
    // @ts-expect-error: a literal of the wrong type
    dag.step("bad2", fetchUser, 42);
    // @ts-expect-error: too few arguments
    dag.step("bad3", greetUser, user.ref());
    // @ts-expect-error: refOrDefault's fallback has the step's result type
    dag.step("bad4", greetUser, user.refOrDefault("not a user"), true);
    // @ts-expect-error: refOrDefault() without a fallback may be null, which a User parameter refuses
    dag.step("bad5", greetUser, user.refOrDefault(), true);
  });

  it("types signal payloads: a signal feeds only a parameter of its payload type, and signal() checks the payload", async () => {
    const dag = workflow.dag();
    const user = dag.step("user", fetchUser, "u1");
    const approval = defineSignal<User>("approval");
    const checked = defineSignal("checked", { schema: z.object({ name: z.string() }) });
    dag.step("greet", greetUser, approval.ref(), true).waitForSignal("extra", checked);
    dag.step("greet2", greetUser, checked.ref(), false);
    dag.step("shout", shout, signalRef<string>("text")).signalTimeoutMs(1000).after(user);
    // @ts-expect-error: a User signal cannot feed a string parameter
    dag.step("bad", shout, approval.ref());
    // Without a type argument, signalRef's payload type is inferred from the parameter it feeds.
    dag.step("inferred", shout, signalRef("text"));
    await workflow.signal(dag.id, approval, { name: "eugene" });
    await workflow.signal(dag.id, "any-name", { whatever: 1 });
    // @ts-expect-error: a typed signal's payload must have its type
    await workflow.signal(dag.id, approval, { nom: "eugene" });
  });

  it("types placement options on steps of the same DAG", () => {
    const dag = workflow.dag();
    const user = dag.step("user", fetchUser, "u1").onTarget("primary");
    dag.step("near", shout, "x").colocateWith(user);
    dag.step("follow", shout, "y").followTargetOf(user);
    // @ts-expect-error: placement takes a step, not an id
    dag.step("bad", shout, "z").colocateWith("user");
  });
});
