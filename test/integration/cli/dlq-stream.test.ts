/**
 * `ebctl dlq …`, `stream …` and `consumer …` against a real nats-server (reference §4.2, §6.16,
 * §7 items 143 and 147): outputs in pretty and JSON, confirmations, bad sequence numbers.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { DLQ_STREAM, dlqSubject, ensureStreams, TASK_STREAM } from "../../../src/broker/index.js";
import { connectNats, type NatsBroker } from "../../../src/nats/index.js";
import { encodeDlqEntry, type Task } from "../../../src/task/index.js";
import { describeNats, useNatsNode } from "../../support/nats.js";
import { ebctl, eventually } from "./support.js";

const utf8 = new TextEncoder();

describeNats("ebctl dlq, stream, consumer", () => {
  const node = useNatsNode();
  let broker: NatsBroker;
  let url: string;
  const run = (args: string[], opts: Parameters<typeof ebctl>[1] = {}): ReturnType<typeof ebctl> => ebctl(args, { url, ...opts });

  async function deadLetter(id: string, message: string): Promise<number> {
    const task: Task = { id, name: "demo.Fail", payload: "[1]", enqueuedAt: new Date(), attempt: 3, workerId: "w-1" };
    const entry = { task, error: { kind: "handler", message, retryable: true }, finalAttempt: 3, deadLetteredAt: new Date() };
    return (await broker.publish(dlqSubject(task.name), utf8.encode(encodeDlqEntry(entry)))).seq;
  }

  beforeAll(async () => {
    url = node().url;
    broker = await connectNats({ servers: url });
    await ensureStreams(broker);
  });

  afterAll(async () => {
    await broker?.close();
  });

  it("dlq ls on an empty DLQ; stream ls -o json lists ebind's streams", async () => {
    expect(await run(["dlq", "ls"])).toEqual({ code: 0, stdout: "DLQ is empty\n", stderr: "" });
    expect(await run(["dlq", "requeue", "--all", "--yes"])).toEqual({ code: 0, stdout: "DLQ is empty — nothing to requeue\n", stderr: "" });
    const rows = JSON.parse((await run(["stream", "ls", "-o", "json"])).stdout) as Record<string, unknown>[];
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(["EBIND_TASKS", "EBIND_RESP", "EBIND_DLQ"]));
    expect(rows.map((r) => r.name)).not.toContain("KV_ebind-dags");
    expect(Object.keys(rows[0]!)).toEqual(["name", "messages", "bytes", "consumers", "first_seq", "last_seq", "subjects", "retention"]);
    expect(rows.find((r) => r.name === "EBIND_TASKS")).toMatchObject({ retention: "workq" });
    const pretty = await run(["stream", "ls"]);
    expect(pretty.stdout.split("\n")[0]).toMatch(/^NAME +MSGS +BYTES +CONS +FIRST +LAST +SUBJECTS +RETENTION$/);
    expect(pretty.stdout).toMatch(/^EBIND_DLQ +0 +0B +0 +0 +0 +DLQ\.> +limits$/m);
  });

  it("dlq ls / show / requeue / purge", async () => {
    const s1 = await deadLetter("t-1", "boom");
    const s2 = await deadLetter("t-2", `a long error ${"x".repeat(80)}`);
    const s3 = await deadLetter("t-3", "third");

    const ls = await run(["dlq", "ls"]);
    const lines = ls.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^SEQ {2}FN {9}ERROR +ATTEMPT {2}AGE +TASK-ID$/);
    expect(lines[1]).toMatch(new RegExp(`^${s3} +demo\\.Fail  handler: third +3 +\\S+ +t-3$`));
    expect(lines[2]).toContain(`handler: a long error ${"x".repeat(37)}…`);
    expect(lines).toHaveLength(4);
    const json = JSON.parse((await run(["dlq", "ls", "-o", "json", "--limit", "1"])).stdout) as Record<string, unknown>[];
    expect(json).toEqual([{ seq: s3, fn: "demo.Fail", task_id: "t-3", error_kind: "handler", error_message: "third", final_attempt: 3, dead_at: expect.stringMatching(/Z$/) }]);

    const show = await run(["dlq", "show", String(s1)]);
    const field = (name: string, value: string): string => `${`${name}:`.padEnd(16)}${value}\n`;
    expect(show.stdout.replace(/dead_at: +\S+Z\n/, "dead_at: <t>\n")).toBe(
      `DLQ seq ${s1}\n${field("fn", "demo.Fail")}${field("task_id", "t-1")}${field("target", "")}${field("dag/step", "/")}${field("final_attempt", "3")}dead_at: <t>\n` +
        `${field("error_kind", "handler")}${field("error_message", "boom")}${field("retryable", "true")}${field("payload", "[1]")}`,
    );
    const shown = JSON.parse((await run(["dlq", "show", String(s1), "-o", "json"])).stdout) as { task: { id: string }; final_attempt: number };
    expect(shown.task.id).toBe("t-1");
    expect(shown.final_attempt).toBe(3);
    expect(await run(["dlq", "show", "abc"])).toEqual({ code: 1, stdout: "", stderr: 'ebctl: parse seq: invalid syntax: "abc" is not a number\n' });
    expect((await run(["dlq", "show", "999"])).stderr).toMatch(/^ebctl: dlq: entry not found/);

    // requeue: argument checks, confirmation, then the task is republished and the entry gone.
    expect((await run(["dlq", "requeue"])).stderr).toBe("ebctl: requeue requires a seq (or --all)\n");
    expect((await run(["dlq", "requeue", "1", "--all"])).stderr).toBe("ebctl: --all and <seq> are mutually exclusive\n");
    expect((await run(["dlq", "requeue", "x1", "--yes"])).stderr).toMatch(/^ebctl: parse seq: /);
    expect((await run(["dlq", "requeue", String(s1)])).stderr).toBe("ebctl: refusing destructive operation on non-TTY without --yes\n");
    expect(await run(["dlq", "requeue", String(s1)], { isTTY: true, input: "N\n" })).toEqual({ code: 1, stdout: "", stderr: `Requeue DLQ seq ${s1}? [y/N]: ebctl: aborted\n` });
    expect((await broker.streamState(DLQ_STREAM))!.messages).toBe(3);
    const tasksBefore = (await broker.streamState(TASK_STREAM))!.messages;
    expect(await run(["dlq", "requeue", String(s1)], { isTTY: true, input: "yes\n" })).toEqual({ code: 0, stdout: `requeued seq ${s1}\n`, stderr: `Requeue DLQ seq ${s1}? [y/N]: ` });
    expect((await broker.streamState(DLQ_STREAM))!.messages).toBe(2);
    expect((await broker.streamState(TASK_STREAM))!.messages).toBe(tasksBefore + 1);

    expect((await run(["dlq", "requeue", "--all"])).stderr).toBe("ebctl: refusing destructive operation on non-TTY without --yes\n");
    expect(await run(["dlq", "requeue", "--all"], { isTTY: true, input: "y\n" })).toEqual({ code: 0, stdout: "requeued 2 entries (0 failed)\n", stderr: "Requeue all 2 DLQ entries? [y/N]: " });
    expect((await broker.streamState(DLQ_STREAM))!.messages).toBe(0);
    expect(s2).toBeGreaterThan(0);

    await deadLetter("t-4", "again");
    expect((await run(["dlq", "purge"])).stderr).toBe("ebctl: refusing destructive operation on non-TTY without --yes\n");
    expect((await broker.streamState(DLQ_STREAM))!.messages).toBe(1);
    expect(await run(["dlq", "purge", "--yes", "-o", "json"])).toEqual({ code: 0, stdout: '{"text":"DLQ purged"}\n', stderr: "" });
    expect((await broker.streamState(DLQ_STREAM))!.messages).toBe(0);
  });

  it("dlq requeue --all exits 1 when some entries could not be requeued, after printing the summary (a new user's script saw 0)", async () => {
    await broker.purgeStream(DLQ_STREAM);
    const ok = await deadLetter("t-ok", "fine");
    // The task of a step of a DAG that does not exist: the workflow refuses to reopen it.
    const task: Task = { id: "ghost:s", name: "demo.Fail", payload: "[1]", enqueuedAt: new Date(), attempt: 1, dagId: "ghost", stepId: "s" };
    const entry = { task, error: { kind: "handler", message: "x", retryable: true }, finalAttempt: 1, deadLetteredAt: new Date() };
    const ghost = (await broker.publish(dlqSubject(task.name), utf8.encode(encodeDlqEntry(entry)))).seq;
    const r = await run(["dlq", "requeue", "--all", "--yes"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("requeued 1 entries (1 failed)\n");
    expect(r.stderr).toMatch(new RegExp(`^requeue ${ghost}: .+\\nebctl: 1 of 2 entries were not requeued \\(see the lines above\\)\\n$`));
    expect(ok).toBeLessThan(ghost);
    expect((await broker.streamState(DLQ_STREAM))!.messages).toBe(1); // the refused entry is kept
  });

  it("dlq watch prints new entries until aborted, and none that were there before it started (a new user saw the whole DLQ)", async () => {
    await deadLetter("t-old", "from-before");
    const stop = new AbortController();
    let out = "";
    const watching = run(["dlq", "watch"], { signal: stop.signal, onStdout: (all) => (out = all) });
    await eventually(async () => {
      await deadLetter("t-w", "watched");
      expect(out).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}seq=\d+ fn=demo\.Fail err=handler\/watched attempts=3$/m);
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(out).not.toContain("from-before");
    stop.abort();
    expect((await watching).code).toBe(0);
  });

  it("stream info / peek / purge / rm-msg; consumer ls / info", async () => {
    await broker.purgeStream(DLQ_STREAM);
    for (let i = 0; i < 3; i++) await broker.publish(dlqSubject(i === 1 ? "other.Fn" : "demo.Peek"), utf8.encode(`{"i":${i}}`), { msgId: `m-${i}` });
    const state = (await broker.streamState(DLQ_STREAM))!;
    const last = state.lastSeq;

    const info = JSON.parse((await run(["stream", "info", "EBIND_DLQ", "-o", "json"])).stdout) as { config: { name: string } };
    expect(info.config.name).toBe("EBIND_DLQ");
    expect((await run(["stream", "info", "NOPE"])).stderr).toBe("ebctl: stream NOPE not found\n");

    const peek = await run(["stream", "peek", "EBIND_DLQ", "--last", "2"]);
    expect(peek.stdout).toMatch(new RegExp(`^SEQ +TIME +SUBJECT +SIZE +MSG-ID\\n${last} +\\S+Z +DLQ\\.demo\\.Peek +7 +m-2\\n${last - 1} +\\S+Z +DLQ\\.other\\.Fn +7 +m-1\\n$`));
    const peekJson = JSON.parse((await run(["stream", "peek", "EBIND_DLQ", "--subject", "DLQ.other.Fn", "-o", "json"])).stdout) as Record<string, unknown>[];
    expect(peekJson).toEqual([{ seq: last - 1, subject: "DLQ.other.Fn", time: expect.stringMatching(/Z$/), size: 7, headers: { "Nats-Msg-Id": "m-1" }, data: '{"i":1}' }]);
    expect(JSON.parse((await run(["stream", "peek", "EBIND_DLQ", "--seq", String(last), "-o", "json"])).stdout)).toHaveLength(1);

    expect((await run(["stream", "rm-msg", "EBIND_DLQ", String(last)])).stderr).toBe("ebctl: refusing destructive operation on non-TTY without --yes\n");
    expect((await run(["stream", "rm-msg", "EBIND_DLQ", "zz", "--yes"])).stderr).toMatch(/^ebctl: parse seq: /);
    expect(await run(["stream", "rm-msg", "EBIND_DLQ", String(last)], { isTTY: true, input: "y\n" })).toEqual({ code: 0, stdout: `deleted EBIND_DLQ seq ${last}\n`, stderr: `Delete seq ${last} from EBIND_DLQ? [y/N]: ` });
    expect(await broker.getMessage(DLQ_STREAM, last)).toBeNull();

    expect((await run(["stream", "purge", "EBIND_DLQ", "--subject", "DLQ.other.Fn", "--keep", "0"], { isTTY: true, input: "n\n" })).stderr).toBe("Purge subject DLQ.other.Fn from EBIND_DLQ (keep last 0)? [y/N]: ebctl: aborted\n");
    expect((await broker.streamState(DLQ_STREAM))!.messages).toBe(2);
    expect(await run(["stream", "purge", "EBIND_DLQ", "--subject", "DLQ.other.Fn", "--yes"])).toEqual({ code: 0, stdout: "purged\n", stderr: "" });
    expect((await broker.streamState(DLQ_STREAM))!.messages).toBe(1);
    expect((await run(["stream", "purge", "EBIND_DLQ"], { isTTY: true, input: "\n" })).stderr).toBe("Purge all messages from EBIND_DLQ? [y/N]: ebctl: aborted\n");

    await broker.ensureConsumer(TASK_STREAM, { durable: "cli-test", filterSubject: "TASKS.demo.>", ackWaitMs: 30_000, maxDeliver: 5 });
    const cls = await run(["consumer", "ls", "EBIND_TASKS"]);
    expect(cls.stdout).toMatch(/^NAME +DURABLE +PENDING +DELIVERED +ACK-FLOOR +REDELIVERED +FILTER\ncli-test +yes +\d+ +0 +0 +0 +TASKS\.demo\.>\n$/);
    const cjson = JSON.parse((await run(["consumer", "ls", "EBIND_TASKS", "-o", "json"])).stdout) as Record<string, unknown>[];
    expect(cjson).toEqual([{ name: "cli-test", durable: "cli-test", pending: expect.any(Number), delivered: 0, ack_floor: 0, redelivered: 0, waiting: 0, filter: "TASKS.demo.>" }]);
    const cinfo = JSON.parse((await run(["consumer", "info", "EBIND_TASKS", "cli-test", "-o", "json"])).stdout) as { name: string };
    expect(cinfo.name).toBe("cli-test");
    expect((await run(["consumer", "info", "EBIND_TASKS", "nope"])).stderr).toBe("ebctl: consumer EBIND_TASKS/nope not found\n");
  });
});
