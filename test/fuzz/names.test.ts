/**
 * Fuzzing names (issue 12, "Nothing lost, even from bad input"): handler names, targets, client ids,
 * DAG ids and step ids either work end to end or are refused at the API with a message naming the
 * offending character; two different names never reach the same handler, subject or KV key.
 *
 * numRuns: checks and injectivity 3000 each; workflow ids 2000; memory backend end to end 200 (task)
 * and 40 (DAG); nats-server end to end 30 (task) and 10 (DAG).
 */
import fc from "fast-check";
import { afterAll, describe as suite, expect, it } from "vitest";
import { silentLogger, taskSubject, targetToken, responseSubject, dlqSubject } from "../../src/broker/index.js";
import { Client } from "../../src/client/index.js";
import { defineHandler, EbindError, Registry, validateHandlerName, validateKeyToken, validateSubjectToken, validateTarget, type HandlerContext } from "../../src/task/index.js";
import { Worker } from "../../src/worker/index.js";
import { alwaysLeader, Workflow } from "../../src/workflow/index.js";
import { metaKey, resultKey, stepKey, stepTaskId } from "../../src/workflow/model/keys.js";
import { describeBackends, openFreshBroker, useCleanups } from "../support/backends.js";
import { watchCrashes } from "./values-support.js";

const watch = watchCrashes();
afterAll(() => {
  watch.restore();
  expect(watch.crashes).toEqual([]);
});

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Name characters: subject breakers, KV-key breakers, lone surrogates, NUL, Unicode spaces, letters. */
const nameUnit = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "B", "7", "-", "_", "=", ":") },
  { weight: 2, arbitrary: fc.constantFrom(".", "*", ">", " ", "\t", "\u0000", "\u00a0", "\u2028", "\ufeff", "/", "\\", '"', "é", "名", "\u{1f600}", "\ufffd") },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);
const anyName = fc.oneof(fc.string({ unit: nameUnit, maxLength: 12 }), fc.constantFrom("a".repeat(256), "a".repeat(257), "a.b", ".a", "a.", "a..b", " a", "a "));
/** DAG and step ids: half valid KV tokens, half anything. */
const anyId = fc.oneof(fc.stringMatching(/^[-_=A-Za-z0-9]{1,12}$/), anyName);

function refusal(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(EbindError);
    expect((e as EbindError).code).toBe("invalid_argument");
    return (e as EbindError).message;
  }
}

/** The first UTF-16 unit or code point of `s` that a UTF-8 subject or key cannot carry as itself. */
function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) i++;
    else if (c >= 0xd800 && c <= 0xdfff) return i;
  }
  return -1;
}

/** A refusal message names the character it refused (as JSON text) or the rule about length, dots or emptiness. */
function expectNamesTheCharacter(message: string, value: string): void {
  if (/empty|longer than|dot-separated/.test(message)) return;
  const named = [...value].some((ch) => message.includes(JSON.stringify(ch)) || message.includes(`'${ch}'`));
  const surrogate = loneSurrogateAt(value);
  const namedSurrogate = surrogate >= 0 && message.includes(`\\u${value.charCodeAt(surrogate).toString(16)}`);
  expect(named || namedSurrogate, `message names the offending character: ${message}`).toBe(true);
}

suite("fuzz: name checks", () => {
  it("a handler name is refused naming the character, or is a well-formed subject that is itself (3000 runs)", () => {
    fc.assert(
      fc.property(anyName, (name) => {
        const refused = refusal(() => validateHandlerName(name));
        if (refused !== undefined) {
          expect(refused).toContain("handler name");
          expectNamesTheCharacter(refused, name);
          return;
        }
        // Accepted: the UTF-8 subject decodes back to the very name (no lone surrogate turned into U+FFFD).
        expect(fromUtf8.decode(utf8.encode(taskSubject(name)))).toBe(taskSubject(name));
        expect(taskSubject(name).split(".").every((t) => t.length > 0 && t !== "*" && t !== ">")).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it("client ids, targets and KV tokens are refused naming the character, or accepted (3000 runs)", () => {
    fc.assert(
      fc.property(anyName, (value) => {
        const asClient = refusal(() => validateSubjectToken(value, "client.clientId"));
        if (asClient !== undefined) expectNamesTheCharacter(asClient, value);
        else expect(fromUtf8.decode(utf8.encode(value))).toBe(value);
        const asTarget = refusal(() => validateTarget(value, "options.target"));
        if (asTarget !== undefined) expectNamesTheCharacter(asTarget, value);
        else expect(Buffer.from(targetToken(value), "base64url").toString("utf8")).toBe(value);
        const asKey = refusal(() => validateKeyToken(value, "DAG id"));
        if (asKey !== undefined) expectNamesTheCharacter(asKey, value);
        else expect(value).toMatch(/^[-_=A-Za-z0-9]{1,256}$/);
      }),
      { numRuns: 3000 },
    );
  });

  it("two different accepted names never share a subject, a target token, a response subject or a KV key (3000 runs)", () => {
    const bytes = (s: string): string => Buffer.from(utf8.encode(s)).toString("hex");
    fc.assert(
      fc.property(anyName, anyName, (a, b) => {
        fc.pre(a !== b);
        if (refusal(() => validateHandlerName(a)) === undefined && refusal(() => validateHandlerName(b)) === undefined) {
          expect(bytes(taskSubject(a))).not.toBe(bytes(taskSubject(b)));
          expect(bytes(dlqSubject(a))).not.toBe(bytes(dlqSubject(b)));
        }
        if (refusal(() => validateTarget(a, "t")) === undefined && refusal(() => validateTarget(b, "t")) === undefined) {
          expect(targetToken(a)).not.toBe(targetToken(b));
        }
        if (refusal(() => validateSubjectToken(a, "c")) === undefined && refusal(() => validateSubjectToken(b, "c")) === undefined) {
          expect(bytes(responseSubject(a, "t1"))).not.toBe(bytes(responseSubject(b, "t1")));
        }
        if (refusal(() => validateKeyToken(a, "k")) === undefined && refusal(() => validateKeyToken(b, "k")) === undefined) {
          const keysOf = (dag: string, step: string): string[] => [metaKey(dag), stepKey(dag, step), resultKey(dag, step), stepTaskId(dag, step)];
          // As DAG ids (same step), and as step ids (same DAG): no key or task id in common.
          const asDag = new Set(keysOf(a, "s"));
          for (const k of keysOf(b, "s")) expect(asDag.has(k)).toBe(false);
          const asStep = new Set(keysOf("d", a).slice(1));
          for (const k of keysOf("d", b).slice(1)) expect(asStep.has(k)).toBe(false);
        }
      }),
      { numRuns: 3000, examples: [["a\ud800", "a\ufffd"], ["\udc00", "\ud800"]] },
    );
  });
});

describeBackends("fuzz: names end to end", (backend) => {
  const cleanups = useCleanups();
  const taskRuns = backend.name === "memory" ? 200 : 30;
  const dagRuns = backend.name === "memory" ? 40 : 10;

  it(`a handler name, target and client id work end to end or are refused at the API; names never cross (${taskRuns} runs)`, async () => {
    const broker = await openFreshBroker(backend, cleanups);
    await fc.assert(
      fc.asyncProperty(anyName, anyName, anyName, async (a, b, target) => {
        fc.pre(a !== b);
        const registry = new Registry();
        const handlers = [a, b].map((name) => {
          try {
            const h = defineHandler(name, async (_ctx: HandlerContext) => name);
            registry.register(h);
            return h;
          } catch (e) {
            expect(refusal(() => validateHandlerName(name))).toBeDefined();
            expectNamesTheCharacter((e as Error).message, name);
            return undefined;
          }
        });
        const targetOk = refusal(() => validateTarget(target, "t")) === undefined;
        // b doubles as the client id: accepted, or refused naming the character or the length.
        const client = await Client.create(broker, { logger: silentLogger, clientId: b }).catch(async (e: unknown) => {
          expect(e).toBeInstanceOf(EbindError);
          expectNamesTheCharacter((e as Error).message, b);
          return Client.create(broker, { logger: silentLogger });
        });
        const worker = await Worker.start(broker, registry, { logger: silentLogger, pullExpiresMs: 1000, claims: targetOk ? [target] : [] });
        try {
          for (const [i, h] of handlers.entries()) {
            if (h === undefined) continue;
            expect(await (await client.enqueue(h)).result({ timeoutMs: 10_000 })).toBe([a, b][i]);
            const targeted = client.enqueueWith(h, { target });
            if (targetOk) expect(await (await targeted).result({ timeoutMs: 10_000 })).toBe([a, b][i]);
            else expectNamesTheCharacter(await targeted.then(() => "accepted", (e: unknown) => (e as Error).message), target);
          }
        } finally {
          await worker.close();
          await client.close();
        }
      }),
      { numRuns: taskRuns },
    );
  });

  it(`a DAG id and step id work end to end or are refused at submit naming the character (${dagRuns} runs)`, async () => {
    const broker = await openFreshBroker(backend, cleanups);
    const registry = new Registry();
    const echo = defineHandler("fuzz.dagEcho", async (_ctx: HandlerContext, s: string) => s);
    registry.register(echo);
    const workflow = await Workflow.create(broker, { logger: silentLogger });
    cleanups.push(async () => workflow.close());
    const worker = await Worker.start(broker, registry, { logger: silentLogger, pullExpiresMs: 1000, stepHook: workflow.stepHook, middleware: [workflow.middleware] });
    cleanups.push(() => worker.close());
    const scheduler = await workflow.startScheduler({ elector: alwaysLeader, pullExpiresMs: 1000 });
    cleanups.push(() => scheduler.stop());
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(anyId, anyId, async (dagId, stepId) => {
        const idOk = refusal(() => validateKeyToken(dagId, "DAG id")) === undefined;
        const stepOk = refusal(() => validateKeyToken(stepId, "step id")) === undefined;
        fc.pre(!seen.has(dagId));
        seen.add(dagId);
        let built: { dag: ReturnType<Workflow["dag"]>; step: ReturnType<ReturnType<Workflow["dag"]>["step"]> } | { error: unknown };
        try {
          const dag = workflow.dag({ id: dagId });
          built = { dag, step: dag.step(stepId, echo, `${dagId}/${stepId}`) };
          await workflow.submit(built.dag);
        } catch (e) {
          built = { error: e };
        }
        if ("error" in built) {
          expect(idOk && stepOk, `refused although both ids are valid: ${String(built.error)}`).toBe(false);
          const message = (built.error as Error).message;
          expectNamesTheCharacter(message, idOk ? stepId : dagId);
          return;
        }
        expect(idOk && stepOk).toBe(true);
        expect(await workflow.await(built.step, { timeoutMs: 10_000 })).toBe(`${dagId}/${stepId}`);
      }),
      { numRuns: dagRuns },
    );
  });
});
