 
import { describe as suite, expect, it } from "vitest";
import { z } from "zod";
import {
  EbindError,
  HANDLER_SPEC,
  Registry,
  TaskError,
  alias,
  canonicalName,
  defineHandler,
  describe,
  specOf,
  taskRef,
  withName,
  type HandlerContext,
  type HandlerFn,
} from "../../../src/task/index.js";

const ctx: HandlerContext = {
  signal: new AbortController().signal,
  task: { id: "t", name: "n", payload: "[]", enqueuedAt: new Date(0), attempt: 1 },
  attempt: 1,
  workerId: "w1",
};

interface Tagged {
  tag: string;
  count: number;
}

// The shapes of reference §6.1 TestRegister_ValidSignatures.
async function noArgs(_ctx: HandlerContext): Promise<string> {
  return "ok";
}
async function oneArg(_ctx: HandlerContext, n: number): Promise<number> {
  return n * 2;
}
async function multiArgs(_ctx: HandlerContext, _n: number, s: string, _t: Tagged): Promise<string> {
  return s;
}
async function errorOnly(_ctx: HandlerContext, s: string): Promise<void> {
  if (s === "") throw new Error("empty string");
}
async function customErr(_ctx: HandlerContext): Promise<void> {
  throw new TaskError("custom", "boom", { retryable: false });
}

function apiError(fn: () => unknown): EbindError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EbindError);
    expect((e as EbindError).code).toBe("invalid_argument");
    return e as EbindError;
  }
  throw new Error("expected an EbindError");
}

async function taskError(p: Promise<unknown>): Promise<TaskError> {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TaskError);
  return e as TaskError;
}

suite("Registry.register (reference §6.1, §7 items 1–3)", () => {
  it("registers the valid shapes under their function names", () => {
    const r = new Registry();
    for (const fn of [noArgs, oneArg, multiArgs, errorOnly, customErr]) r.register(fn);
    expect(r.names()).toEqual(["customErr", "errorOnly", "multiArgs", "noArgs", "oneArg"]);
    expect(r.get("multiArgs")?.arity).toBe(3);
    expect(r.get("noArgs")?.arity).toBe(0);
  });

  it.each<[string, unknown, RegExp]>([
    ["a string", "foo", /^ebind: Register: not a function: string$/],
    ["a number", 42, /^ebind: Register: not a function: number$/],
    ["null", null, /^ebind: Register: not a function: null$/],
    ["a TaskRef", taskRef("x.Y"), /^ebind: Register: not a function: object$/],
    ["an anonymous arrow", [(_c: HandlerContext) => 1][0], /cannot name an anonymous function; give it a name with defineHandler/],
    ["an anonymous function expression", (() => function (_c: HandlerContext) {})(), /anonymous function/],
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the one way to get a function named "anonymous"
    ["new Function", new Function("ctx", "return 1"), /anonymous function/],
    ["a bound function", noArgs.bind(null), /bound function "bound noArgs"/],
  ])("rejects %s", (_what, fn, message) => {
    const r = new Registry();
    expect(apiError(() => r.register(fn as HandlerFn)).message).toMatch(message);
    expect(r.names()).toEqual([]);
  });

  it.each(["a b", "a.*", "a.>", ".a", "a.", "a..b", ""])("rejects the name %j", (name) => {
    const r = new Registry();
    expect(apiError(() => r.register(noArgs, withName(name))).message).toMatch(/^ebind: Register: handler name .* is invalid/);
    expect(r.names()).toEqual([]);
  });

  it("rejects a duplicate name", () => {
    const r = new Registry();
    r.register(oneArg);
    expect(apiError(() => r.register(oneArg)).message).toBe('ebind: Register: duplicate handler name "oneArg"');
  });

  it("uses withName as the lookup key (last one wins)", () => {
    const r = new Registry();
    const d = r.register(oneArg, withName("first"), withName("custom.Name"));
    expect(d.name).toBe("custom.Name");
    expect(r.get("custom.Name")).toBe(d);
    expect(r.get("oneArg")).toBeUndefined();
    expect(r.get("first")).toBeUndefined();
  });

  it("resolves aliases to the very same dispatcher", () => {
    const r = new Registry();
    const d = r.register(oneArg, withName("task.oneArg"), alias("old.name"), alias("older.name"));
    expect(r.get("task.oneArg")).toBe(d);
    expect(r.get("old.name")).toBe(d);
    expect(r.get("older.name")).toBe(d);
    expect(d.name).toBe("task.oneArg");
    expect(r.names()).toEqual(["old.name", "older.name", "task.oneArg"]);
  });

  it("rejects duplicate aliases and registers nothing on failure (unlike Go)", () => {
    const r = new Registry();
    r.register(noArgs, alias("taken"));
    expect(apiError(() => r.register(oneArg, alias("fresh"), alias("taken"))).message).toBe('ebind: Register: duplicate alias "taken"');
    expect(apiError(() => r.register(oneArg, alias("oneArg"))).message).toBe('ebind: Register: duplicate alias "oneArg"');
    expect(apiError(() => r.register(oneArg, alias("x"), alias("x"))).message).toBe('ebind: Register: duplicate alias "x"');
    expect(apiError(() => r.register(oneArg, alias("bad alias"))).message).toMatch(/^ebind: Register: alias "bad alias" is invalid/);
    expect(r.names()).toEqual(["noArgs", "taken"]);
    expect(r.register(oneArg, alias("fresh")).name).toBe("oneArg");
  });

  it("mustRegister registers and throws the same errors", () => {
    const r = new Registry();
    expect(r.mustRegister(oneArg)).toBeUndefined();
    expect(r.get("oneArg")).toBeDefined();
    expect(apiError(() => r.mustRegister(oneArg)).message).toContain("duplicate handler name");
  });

  it("name precedence: withName > spec name > fn.name", () => {
    const named = defineHandler("spec.Name", async (_c: HandlerContext) => 1);
    const r = new Registry();
    expect(r.register(named).name).toBe("spec.Name");
    expect(r.register(named, withName("explicit.Name")).name).toBe("explicit.Name");
    expect(r.register(noArgs).name).toBe("noArgs");
  });
});

suite("Dispatcher.call (reference §6.1, §7 items 4–7)", () => {
  it('dispatches [7,"hello",{"tag":"t","count":3}] to a 3-arg handler → "hello"', async () => {
    const d = describe(multiArgs);
    expect(await d.call(ctx, '[7,"hello",{"tag":"t","count":3}]')).toBe('"hello"');
  });

  it("passes the context and decoded args", async () => {
    const seen: unknown[] = [];
    const h = defineHandler("probe", async (c: HandlerContext, a: number, b: { x: string[] }) => {
      seen.push(c.workerId, a, b);
      return { sum: a + b.x.length };
    });
    expect(await describe(h).call(ctx, ' [2, {"x":["p","q"]}] ')).toBe('{"sum":4}');
    expect(seen).toEqual(["w1", 2, { x: ["p", "q"] }]);
  });

  it("a handler returning nothing yields no result; a plain Error becomes kind handler, retryable", async () => {
    const d = describe(errorOnly);
    expect(await d.call(ctx, '["x"]')).toBeUndefined();
    const e = await taskError(d.call(ctx, '[""]'));
    expect(e.toData()).toEqual({ kind: "handler", message: "empty string", retryable: true });
  });

  it("a handler returning null yields the JSON null", async () => {
    expect(await describe(defineHandler("nul", (_c: HandlerContext) => null)).call(ctx, "[]")).toBe("null");
  });

  it("preserves a custom TaskError, also inside a cause chain", async () => {
    const e = await taskError(describe(customErr).call(ctx, "[]"));
    expect(e.toData()).toEqual({ kind: "custom", message: "boom", retryable: false });
    const wrapped = defineHandler("wrapped", (_c: HandlerContext) => {
      throw new Error("outer", { cause: new TaskError("validation", "bad email", { retryable: false }) });
    });
    expect((await taskError(describe(wrapped).call(ctx, "[]"))).toData()).toEqual({ kind: "validation", message: "bad email", retryable: false });
  });

  it("classifies a synchronous throw and a thrown non-Error", async () => {
    const sync = defineHandler("sync", (_c: HandlerContext): number => {
      throw new RangeError("nope");
    });
    expect((await taskError(describe(sync).call(ctx, "[]"))).toData()).toEqual({ kind: "handler", message: "nope", retryable: true });
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- testing what a non-Error rejection becomes
    const str = defineHandler("str", (_c: HandlerContext) => Promise.reject("plain string"));
    expect((await taskError(describe(str).call(ctx, "[]"))).detail).toBe("plain string");
  });

  it("two args for a three-arg handler → arg_count, non-retryable", async () => {
    const e = await taskError(describe(multiArgs).call(ctx, '[7,"hello"]'));
    expect(e.toData()).toEqual({ kind: "arg_count", message: "want at least 3 args, got 2", retryable: false });
  });

  it("a declared arity is exact and says Go's text; an inferred one is a lower bound and says so (issue 15)", async () => {
    // Go knows a handler's exact parameter list and writes `want N args, got M`. A JavaScript
    // function's length counts the parameters before the first default or rest one, so without a
    // declared arity ebind can only require at least that many: same kind, its own wording.
    const exact = defineHandler("exact2", async (_c: HandlerContext, a: number, b?: number) => a + (b ?? 0), { arity: 2 });
    expect((await taskError(describe(exact).call(ctx, "[1,2,3]"))).toData()).toEqual({ kind: "arg_count", message: "want 2 args, got 3", retryable: false });
    const inferred = defineHandler("inferred2", async (_c: HandlerContext, a: number, b: number, ...more: number[]) => a + b + more.length);
    expect(await describe(inferred).call(ctx, "[1,2,3]")).toBe("4");
    expect((await taskError(describe(inferred).call(ctx, "[1]"))).toData()).toEqual({ kind: "arg_count", message: "want at least 2 args, got 1", retryable: false });
  });

  it("empty, whitespace and null payloads are zero args", async () => {
    const d = describe(noArgs);
    for (const p of ["", "  ", "null", " null "]) expect(await d.call(ctx, p)).toBe('"ok"');
    expect((await taskError(describe(oneArg).call(ctx, ""))).kind).toBe("arg_count");
  });

  it.each([
    ['{"a":1}', "payload is not a JSON array: got object"],
    ["5", "payload is not a JSON array: got number"],
    ["[1,", "payload is not a JSON array: "],
  ])("a non-array payload %j → decode, non-retryable", async (payload, message) => {
    const e = await taskError(describe(oneArg).call(ctx, payload));
    expect(e.kind).toBe("decode");
    expect(e.retryable).toBe(false);
    expect(e.detail).toContain(message);
  });

  it("refuses a result JSON cannot carry", async () => {
    const h = defineHandler("bigResult", (_c: HandlerContext) => ({ n: 10n }));
    const e = await taskError(describe(h).call(ctx, "[]"));
    expect(e.toData()).toEqual({ kind: "decode", message: "marshal result: result.n: BigInt cannot be carried by JSON (pass it as a string)", retryable: false });
  });

  it("a TaskRef dispatcher cannot call", async () => {
    const d = describe(taskRef("remote.Thing"));
    expect(d.callable).toBe(false);
    await expect(d.call(ctx, "[]")).rejects.toThrow(EbindError);
  });
});

suite("Dispatcher.validateArgs (producer side, §7 item 8)", () => {
  it("accepts the right count and rejects a short list with arg count", async () => {
    const d = describe(multiArgs);
    await expect(d.validateArgs([7, "hello", { tag: "t", count: 3 }])).resolves.toBeUndefined();
    const e = await taskError(d.validateArgs([7]));
    expect(e.toData()).toEqual({ kind: "arg_count", message: "arg count: want at least 3, got 1", retryable: false });
  });

  it.each<[string, unknown, string]>([
    ["BigInt", { items: [1, 2, 3, 4n] }, "arg 1.items[3]: BigInt"],
    ["Map", new Map([["a", 1]]), "arg 1: a Map"],
    ["Set", new Set([1]), "arg 1: a Set"],
    ["undefined in an array", [undefined], "arg 1[0]: undefined"],
    ["undefined argument", undefined, "arg 1: undefined"],
    ["NaN", Number.NaN, "arg 1: NaN"],
    ["Infinity", { x: Number.POSITIVE_INFINITY }, "arg 1.x: Infinity"],
    ["a cycle", (() => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    })(), "arg 1.self: a cycle (back to arg 1)"],
    ["a class instance", new (class Point {
      x = 1;
    })(), "arg 1: an instance of Point"],
  ])("rejects %s with arg_type naming the path", async (_what, value, message) => {
    const h = defineHandler("two", async (_c: HandlerContext, _a: number, _b: unknown) => undefined);
    const e = await taskError(describe(h).validateArgs([1, value]));
    expect(e.kind).toBe("arg_type");
    expect(e.retryable).toBe(false);
    expect(e.detail).toContain(message);
  });

  it("encodes args as a JSON array", () => {
    expect(describe(multiArgs).encodeArgs([7, "hello", { tag: "t", count: 3 }])).toBe('[7,"hello",{"tag":"t","count":3}]');
    const bad = { toJSON: () => {
      throw new Error("no");
    } };
    expect(() => describe(oneArg).encodeArgs([bad])).toThrow(TaskError);
  });
});

suite("Standard Schema validation (zod)", () => {
  const User = z.object({ user: z.object({ email: z.email(), name: z.string().transform((s) => s.toUpperCase()) }) });
  const signup = defineHandler(
    "users.Signup",
    async (_c: HandlerContext, input: z.output<typeof User>, times: number) => `${input.user.name}×${times}`,
    { args: [User as never, z.number().int()], result: z.string().max(20) },
  );

  it("the producer names the argument index and path", async () => {
    const d = describe(signup);
    await expect(d.validateArgs([{ user: { email: "a@b.co", name: "ann" } }, 2])).resolves.toBeUndefined();
    const e = await taskError(d.validateArgs([{ user: { email: "nope", name: "ann" } }, 2]));
    expect(e.kind).toBe("arg_type");
    expect(e.detail).toMatch(/^arg 0 at \.user\.email: /);
    const e2 = await taskError(d.validateArgs([{ user: { email: "a@b.co", name: "ann" } }, 1.5]));
    expect(e2.detail).toMatch(/^arg 1: /);
  });

  it("the producer validates the value as JSON will deliver it", async () => {
    const d = describe(defineHandler("dated", async (_c: HandlerContext, _d: Date) => undefined, { args: [z.date()] }));
    const e = await taskError(d.validateArgs([new Date()]));
    expect(e.detail).toMatch(/^arg 0: /);
    const coerced = describe(defineHandler("coerced", async (_c: HandlerContext, _d: Date) => undefined, { args: [z.coerce.date()] }));
    await expect(coerced.validateArgs([new Date()])).resolves.toBeUndefined();
  });

  it("the worker hands the handler the schema's output and checks the result", async () => {
    const d = describe(signup);
    expect(await d.call(ctx, '[{"user":{"email":"a@b.co","name":"ann"}},3]')).toBe('"ANN×3"');
    const bad = await taskError(d.call(ctx, '[{"user":{"email":"x","name":"ann"}},3]'));
    expect(bad.kind).toBe("decode");
    expect(bad.retryable).toBe(false);
    expect(bad.detail).toMatch(/^arg 0 at \.user\.email: /);
    const long = await taskError(d.call(ctx, '[{"user":{"email":"a@b.co","name":"a-very-long-name-indeed"}},3]'));
    expect(long.kind).toBe("decode");
    expect(long.detail).toMatch(/^result: /);
  });

  it("supports asynchronous validators and paths with keys and indices", async () => {
    const asyncSchema = {
      "~standard": {
        version: 1 as const,
        vendor: "test",
        validate: async (v: unknown) =>
          v === "ok" ? { value: v } : { issues: [{ message: "bad", path: [{ key: "items" }, 2, "a b"] }, { message: "worse" }] },
      },
    };
    const d = describe(defineHandler("asyncv", async (_c: HandlerContext, _s: string) => undefined, { args: [asyncSchema] }));
    await expect(d.validateArgs(["ok"])).resolves.toBeUndefined();
    expect((await taskError(d.validateArgs(["no"]))).detail).toBe('arg 0 at .items[2]["a b"]: bad; arg 0: worse');
  });

  it("reports a validator that throws", async () => {
    const throwing = { "~standard": { version: 1 as const, vendor: "t", validate: () => {
      throw new Error("kaput");
    } } };
    const d = describe(defineHandler("throwingv", async (_c: HandlerContext, _s: string) => undefined, { args: [throwing] }));
    expect((await taskError(d.validateArgs(["x"]))).detail).toBe("arg 0: the validator threw: kaput");
  });
});

suite("defineHandler, taskRef, canonicalName, describe", () => {
  it("attaches a non-enumerable spec and returns the same function", () => {
    const fn = async (_c: HandlerContext, a: number) => a;
    const defined = defineHandler("math.Id", fn, { arity: 1 });
    expect(defined).toBe(fn);
    expect(Object.keys(defined)).toEqual([]);
    expect(defined[HANDLER_SPEC]).toEqual({ name: "math.Id", arity: 1 });
    expect(specOf(defined)?.name).toBe("math.Id");
    expect(apiError(() => defineHandler("again", fn)).message).toContain('already has a spec (name "math.Id")');
  });

  it("validates the name and spec immediately", () => {
    expect(apiError(() => defineHandler((_c: HandlerContext) => 1)).message).toMatch(/^ebind: defineHandler: (cannot name an anonymous|.*)/);
    expect(apiError(() => defineHandler("bad name", async (_c: HandlerContext) => 1)).message).toContain('handler name "bad name" is invalid');
    expect(apiError(() => defineHandler("a.b", (_c: HandlerContext) => 1, { arity: -1 })).message).toContain("spec.arity must be an integer ≥ 0");
    expect(apiError(() => defineHandler("a.c", (_c: HandlerContext) => 1, { arity: 0, args: [z.string()] as never })).message).toContain("1 argument schemas for arity 0");
    expect(apiError(() => defineHandler("a.d", (_c: HandlerContext, _x: string) => 1, { args: [{} as never] })).message).toContain("spec.args[0] is not a Standard Schema");
    expect(apiError(() => defineHandler("a.e", 5 as unknown as HandlerFn)).message).toBe("ebind: defineHandler: not a function: number");
  });

  it("takes the arity from spec.arity, then args, then fn.length - 1", () => {
    expect(describe(defineHandler("r1", (_c: HandlerContext, ...xs: number[]) => xs.length, { arity: 3 })).arity).toBe(3);
    expect(describe(defineHandler("r2", (_c: HandlerContext, _a: string, _b = 1) => 0, { args: [z.string(), z.number()] })).arity).toBe(2);
    const d = describe(oneArg);
    expect(d.arity).toBe(1);
    expect(d.argTypes).toEqual([{ index: 0 }]);
    expect(d.hasResult).toBe(true);
    expect(d.resultType).toBeUndefined();
  });

  it("taskRef names a remote handler and carries its schemas", async () => {
    const ref = taskRef<typeof multiArgs>("task.multiArgs", { args: [z.number(), z.string()] });
    expect(canonicalName(ref)).toBe("task.multiArgs");
    const d = describe(ref);
    expect(d.name).toBe("task.multiArgs");
    expect(d.arity).toBe(2);
    expect((await taskError(d.validateArgs([1, 2]))).detail).toMatch(/^arg 1: /);
    expect(Object.isFrozen(ref)).toBe(true);
    expect(apiError(() => taskRef("a b")).message).toContain('ebind: taskRef: handler name "a b" is invalid');
  });

  it("canonicalName: ref name, then spec name, then fn.name", () => {
    expect(canonicalName(noArgs)).toBe("noArgs");
    expect(canonicalName(defineHandler("custom.N", async (_c: HandlerContext) => 1))).toBe("custom.N");
    expect(apiError(() => canonicalName(noArgs.bind(null))).message).toMatch(/^ebind: CanonicalName: the bound function "bound noArgs"/);
    expect(apiError(() => canonicalName(1 as unknown as HandlerFn)).message).toBe("ebind: CanonicalName: not a function: number");
  });

  it("describe refuses non-functions with Go's message prefix", () => {
    expect(apiError(() => describe("x" as unknown as HandlerFn)).message).toBe("ebind: Describe: not a function: string");
    expect(apiError(() => describe([] as unknown as HandlerFn)).message).toBe("ebind: Describe: not a function: array");
  });

  it("types producers' arguments from the handler (compile-time)", () => {
    const ref = taskRef<typeof multiArgs>("task.multiArgs");
    const check = (_r: typeof ref, _args: Parameters<typeof multiArgs> extends [unknown, ...infer A] ? A : never) => undefined;
    check(ref, [1, "s", { tag: "t", count: 1 }]);
    // @ts-expect-error wrong type for the second argument
    check(ref, [1, 2, { tag: "t", count: 1 }]);
    // @ts-expect-error a result schema must produce the handler's result type
    defineHandler("typed.Result", async (_c: HandlerContext) => "s", { result: z.number() });
    expect(true).toBe(true);
  });
});
