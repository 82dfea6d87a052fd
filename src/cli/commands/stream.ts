/**
 * `ebctl stream ls|info|peek|purge|rm-msg` (reference §4.2), through the JetStream manager on the
 * broker's connection, and `ebctl stream ensure` (an extension: every stream and KV bucket ebind
 * uses, created by an administrator before processes with narrower permissions start).
 * @module
 */
import type { Command } from "commander";
import { jetstreamManager, RetentionPolicy, type JetStreamManager, type PurgeBySubject, type PurgeOpts, type PurgeTrimOpts, type StreamInfo, type StoredMsg } from "@nats-io/jetstream";
import { DLQ_STREAM, PARKED_STREAM, RESPONSE_STREAM, TASK_STREAM } from "../../broker/index.js";
import { DAG_EVENTS_STREAM, ensureTopology } from "../../workflow/index.js";
import { nonNegativeInt, type Act } from "../action.js";
import { CliError } from "../errors.js";
import { humanBytes, rfc3339 } from "../format.js";
import { prettyJson } from "../json.js";
import type { Session } from "../session.js";
import { parseSeq } from "./dlq.js";

/** The streams `stream ls` shows without `--all` (missing ones skipped; the KV stream is not one). */
export const EBIND_STREAMS = [TASK_STREAM, RESPONSE_STREAM, DLQ_STREAM, PARKED_STREAM, DAG_EVENTS_STREAM];

function retentionName(r: RetentionPolicy): string {
  return r === RetentionPolicy.Workqueue ? "workq" : r;
}

async function manager(s: Session): Promise<JetStreamManager> {
  return jetstreamManager((await s.broker()).connection, { timeout: s.timeoutMs });
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10037 || /not found/i.test(e?.message ?? "");
}

/** A stream's info. @throws CliError `stream <name> not found`. */
async function info(jsm: JetStreamManager, name: string): Promise<StreamInfo> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (isNotFound(err)) throw new CliError(`stream ${name} not found`);
    throw err;
  }
}

async function ls(s: Session, all: boolean): Promise<void> {
  const jsm = await manager(s);
  const infos: StreamInfo[] = [];
  if (all) {
    for await (const i of jsm.streams.list()) infos.push(i);
    infos.sort((a, b) => (a.config.name < b.config.name ? -1 : 1));
  } else {
    for (const name of EBIND_STREAMS) {
      try {
        infos.push(await jsm.streams.info(name));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
  const subjects = (i: StreamInfo): string[] => i.config.subjects ?? [];
  s.printer.table(
    ["NAME", "MSGS", "BYTES", "CONS", "FIRST", "LAST", "SUBJECTS", "RETENTION"],
    infos.map((i) => {
      const subs = subjects(i);
      const subCell = subs.length === 0 ? "-" : subs[0]! + (subs.length > 1 ? ` (+${subs.length - 1})` : "");
      return [i.config.name, String(i.state.messages), humanBytes(i.state.bytes), String(i.state.consumer_count), String(i.state.first_seq), String(i.state.last_seq), subCell, retentionName(i.config.retention)];
    }),
    infos.map((i) => ({
      name: i.config.name,
      messages: i.state.messages,
      bytes: i.state.bytes,
      consumers: i.state.consumer_count,
      first_seq: i.state.first_seq,
      last_seq: i.state.last_seq,
      subjects: subjects(i),
      retention: retentionName(i.config.retention),
    })),
  );
}

interface PeekRow {
  readonly seq: number;
  readonly subject: string;
  readonly time: Date;
  readonly size: number;
  readonly headers?: Record<string, string> | undefined;
  readonly data?: string | undefined;
}

function peekRow(m: StoredMsg): PeekRow {
  let headers: Record<string, string> | undefined;
  if (m.header) {
    headers = {};
    for (const [k, v] of m.header) if (v[0] !== undefined) headers[k] = v[0];
    if (Object.keys(headers).length === 0) headers = undefined;
  }
  return { seq: m.seq, subject: m.subject, time: m.time, size: m.data.length, headers, data: m.data.length > 0 ? new TextDecoder().decode(m.data) : undefined };
}

async function getMsg(jsm: JetStreamManager, stream: string, seq: number): Promise<StoredMsg | null> {
  try {
    return await jsm.streams.getMessage(stream, { seq });
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function peek(s: Session, stream: string, opts: Record<string, unknown>): Promise<void> {
  const jsm = await manager(s);
  const si = await info(jsm, stream);
  const rows: PeekRow[] = [];
  if (opts.seq !== undefined) {
    const m = await getMsg(jsm, stream, parseSeq(opts.seq as string));
    if (m === null) throw new CliError(`stream ${stream}: no message at seq ${opts.seq as string}`);
    rows.push(peekRow(m));
  } else {
    const last = opts.last as number;
    const subject = opts.subject as string | undefined;
    for (let seq = si.state.last_seq; seq >= si.state.first_seq && seq > 0 && rows.length < last; seq--) {
      const m = await getMsg(jsm, stream, seq);
      if (m === null || (subject !== undefined && m.subject !== subject)) continue;
      rows.push(peekRow(m));
    }
  }
  s.printer.table(
    ["SEQ", "TIME", "SUBJECT", "SIZE", "MSG-ID"],
    rows.map((r) => [String(r.seq), rfc3339(r.time), r.subject, String(r.size), r.headers?.["Nats-Msg-Id"] ?? "-"]),
    rows,
  );
}

async function purge(s: Session, stream: string, opts: Record<string, unknown>): Promise<void> {
  const jsm = await manager(s);
  await info(jsm, stream);
  const subject = opts.subject as string | undefined;
  const keep = opts.keep as number | undefined;
  let text = subject === undefined ? `Purge all messages from ${stream}` : `Purge subject ${subject} from ${stream}`;
  if (keep !== undefined) text += ` (keep last ${keep})`;
  await s.confirm(`${text}?`);
  const request: Partial<PurgeBySubject & PurgeTrimOpts> = {};
  if (subject !== undefined) request.filter = subject;
  if (keep !== undefined) request.keep = keep;
  await jsm.streams.purge(stream, request as PurgeOpts);
  s.printer.text("purged");
}

async function rmMsg(s: Session, stream: string, seqText: string): Promise<void> {
  const seq = parseSeq(seqText);
  const jsm = await manager(s);
  await info(jsm, stream);
  await s.confirm(`Delete seq ${seq} from ${stream}?`);
  try {
    await jsm.streams.deleteMessage(stream, seq);
  } catch (err) {
    if (isNotFound(err)) throw new CliError(`stream ${stream}: no message at seq ${seq}`);
    throw err;
  }
  s.printer.text(`deleted ${stream} seq ${seq}`);
}

/** `stream ensure`: {@link ensureTopology} with `--replicas` (absent: existing streams keep theirs); prints each stream ensured. */
async function ensure(s: Session): Promise<void> {
  const names = await ensureTopology(await s.broker(), { replicas: s.replicas });
  s.printer.table(["STREAM"], names.map((n) => [n]), names.map((name) => ({ name })));
}

/** Adds the `stream` commands to the program. */
export function registerStreamCommands(program: Command, act: Act): void {
  const stream = program.command("stream").description("JetStream streams");
  stream
    .command("ls")
    .description("list ebind's streams (or every stream)")
    .option("--all", "every stream on the server")
    .action(act((s, _a, opts) => ls(s, opts.all === true)));
  stream
    .command("ensure")
    .description("create (or update) every stream and KV bucket ebind uses; --replicas scales them (an administrator's step)")
    .action(act((s) => ensure(s)));
  stream
    .command("info")
    .description("show a stream's info")
    .argument("<stream>")
    .action(
      act(async (s, [name]) => {
        const i = await info(await manager(s), name!);
        s.printer.value(prettyJson(i), i);
      }),
    );
  stream
    .command("peek")
    .description("show a stream's last messages (read-only)")
    .argument("<stream>")
    .option("--seq <n>", "only the message at this sequence")
    .option("--last <n>", "how many messages, newest first", nonNegativeInt, 10)
    .option("--subject <subject>", "only messages on exactly this subject")
    .action(act((s, [name], opts) => peek(s, name!, opts)));
  stream
    .command("purge")
    .description("remove a stream's messages (asks first)")
    .argument("<stream>")
    .option("--subject <subject>", "only messages on this subject")
    .option("--keep <n>", "keep the last N messages", nonNegativeInt)
    .action(act((s, [name], opts) => purge(s, name!, opts)));
  stream
    .command("rm-msg")
    .description("delete one message (asks first)")
    .argument("<stream>")
    .argument("<seq>")
    .action(act((s, [name, seq]) => rmMsg(s, name!, seq!)));
}
