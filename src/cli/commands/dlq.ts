/**
 * `ebctl dlq ls|show|watch|requeue|purge` (reference §4.2) over the dead-letter API (src/dlq).
 * @module
 */
import type { Command } from "commander";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { DLQ_STREAM } from "../../broker/index.js";
import { getDeadLetter, listDeadLetters, purgeDeadLetters, requeueDeadLetter, type DeadLetter, type PrepareRequeue } from "../../dlq/index.js";
import { decodeDlqEntry, encodeDlqEntry } from "../../task/index.js";
import { nonNegativeInt, type Act } from "../action.js";
import { CliError } from "../errors.js";
import { age, rfc3339 } from "../format.js";
import { alignTable } from "../output.js";
import { Progress } from "../progress.js";
import { RawJson } from "../json.js";
import type { Session } from "../session.js";

/** `s` cut to `max` code points: longer ⇒ the first `max − 1` and `…`. */
export function cut(s: string, max: number): string {
  const runes = [...s];
  return runes.length <= max ? s : `${runes.slice(0, max - 1).join("")}…`;
}

/**
 * A sequence number argument.
 * @throws CliError `parse seq: …` for anything but a positive integer.
 */
export function parseSeq(text: string): number {
  if (!/^\d+$/.test(text)) throw new CliError(`parse seq: invalid syntax: ${JSON.stringify(text)} is not a number`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new CliError(`parse seq: ${JSON.stringify(text)} is out of range`);
  return n;
}

async function ls(s: Session, limit: number): Promise<void> {
  const letters = await listDeadLetters(await s.broker(), { limit });
  if (letters.length === 0) return s.printer.text("DLQ is empty");
  const now = Date.now();
  s.printer.table(
    ["SEQ", "FN", "ERROR", "ATTEMPT", "AGE", "TASK-ID"],
    letters.map((l) => {
      const e = l.entry;
      if (!e) return [String(l.seq), "?", cut(`undecodable: ${l.decodeError ?? ""}`, 60), "-", age(l.storedAt, now), "-"];
      return [String(l.seq), e.task.name, cut(`${e.error.kind}: ${e.error.message}`, 60), String(e.finalAttempt), age(e.deadLetteredAt, now), e.task.id];
    }),
    letters.map((l) => ({
      seq: l.seq,
      fn: l.entry?.task.name ?? "",
      task_id: l.entry?.task.id ?? "",
      error_kind: l.entry?.error.kind ?? "",
      error_message: l.entry?.error.message ?? l.decodeError ?? "",
      final_attempt: l.entry?.finalAttempt ?? 0,
      dead_at: l.entry?.deadLetteredAt ?? l.storedAt,
    })),
  );
}

function formatLetter(l: DeadLetter): string {
  const e = l.entry;
  if (!e) return `DLQ seq ${l.seq}\nundecodable entry on ${l.subject}: ${l.decodeError ?? ""}`;
  const rows: [string, string][] = [
    ["fn:", e.task.name],
    ["task_id:", e.task.id],
    ["target:", e.task.target ?? ""],
    ["dag/step:", `${e.task.dagId ?? ""}/${e.task.stepId ?? ""}`],
    ["final_attempt:", String(e.finalAttempt)],
    ["dead_at:", rfc3339(e.deadLetteredAt)],
    ["error_kind:", e.error.kind],
    ["error_message:", e.error.message],
    ["retryable:", String(e.error.retryable)],
    ["payload:", e.task.payload],
  ];
  return `DLQ seq ${l.seq}\n${alignTable(rows)}`;
}

async function show(s: Session, seqText: string): Promise<void> {
  const seq = parseSeq(seqText);
  const letter = await getDeadLetter(await s.broker(), seq);
  if (!letter.entry) throw new CliError(`dlq: decode entry: ${letter.decodeError ?? ""}`);
  s.printer.value(formatLetter(letter), new RawJson(encodeDlqEntry(letter.entry)));
}

async function watch(s: Session): Promise<void> {
  s.follow();
  const broker = await s.broker();
  const nc = broker.connection;
  // Entries stored before the watch began are not shown, even when the ordered consumer restarts
  // from the stream's start after a lost connection (it does: a new user saw the whole DLQ again).
  const before = (await broker.streamState(DLQ_STREAM))?.lastSeq ?? 0;
  const consumer = await jetstream(nc).consumers.get(DLQ_STREAM, { deliver_policy: DeliverPolicy.New });
  const messages = await consumer.consume();
  const stop = (): void => void messages.stop();
  if (s.io.signal?.aborted) stop();
  s.io.signal?.addEventListener("abort", stop, { once: true });
  try {
    for await (const m of messages) {
      if (m.seq <= before) continue;
      try {
        const e = decodeDlqEntry(m.data);
        s.io.stdout.write(`${rfc3339(e.deadLetteredAt)}  seq=${m.seq} fn=${e.task.name} err=${e.error.kind}/${e.error.message} attempts=${e.finalAttempt}\n`);
      } catch (err) {
        s.io.stderr.write(`ebctl: dlq seq ${m.seq}: ${(err as Error).message}\n`);
      }
    }
  } finally {
    s.io.signal?.removeEventListener("abort", stop);
  }
  // The loop also ends when the connection closed for good: say so (exit 1), not a silent exit 0.
  await s.failIfLost();
}

/** The workflow's `prepareRequeue` when an entry is a DAG step's task (the workflow layer is opened only then). */
async function prepareFor(s: Session, letters: readonly DeadLetter[]): Promise<PrepareRequeue | undefined> {
  return letters.some((l) => l.entry?.task.dagId) ? (await s.workflow()).prepareRequeue : undefined;
}

async function requeue(s: Session, seqText: string | undefined, all: boolean): Promise<void> {
  if (all && seqText !== undefined) throw new CliError("--all and <seq> are mutually exclusive");
  if (!all && seqText === undefined) throw new CliError("requeue requires a seq (or --all)");
  const broker = await s.broker();
  if (!all) {
    const seq = parseSeq(seqText!);
    await s.confirm(`Requeue DLQ seq ${seq}?`);
    const letter = await getDeadLetter(broker, seq);
    await requeueDeadLetter(broker, seq, { prepare: await prepareFor(s, [letter]) });
    return s.printer.text(`requeued seq ${seq}`);
  }
  const letters = (await listDeadLetters(broker, { limit: 0 })).filter((l) => l.entry !== undefined).reverse();
  if (letters.length === 0) return s.printer.text("DLQ is empty — nothing to requeue");
  await s.confirm(`Requeue all ${letters.length} DLQ entries?`);
  const prepare = await prepareFor(s, letters);
  const progress = new Progress(s.io, "requeueing");
  let ok = 0;
  let failed = 0;
  for (const l of letters) {
    try {
      await requeueDeadLetter(broker, l.seq, { prepare });
      ok++;
    } catch (err) {
      failed++;
      progress.done();
      s.io.stderr.write(`requeue ${l.seq}: ${(err as Error).message}\n`);
    }
    progress.update(ok + failed, letters.length);
  }
  progress.done();
  s.printer.text(`requeued ${ok} entries (${failed} failed)`);
  // The summary is printed either way; a script must still see that not everything was requeued.
  if (failed > 0) throw new CliError(`${failed} of ${letters.length} entries were not requeued (see the lines above)`);
}

/** Adds the `dlq` commands to the program. */
export function registerDlqCommands(program: Command, act: Act): void {
  const dlq = program.command("dlq").description("the dead-letter queue");
  dlq.command("ls")
    .description("list dead letters, newest first")
    .option("--limit <n>", "at most this many (0 = all)", nonNegativeInt, 50)
    .action(act((s, _a, opts) => ls(s, opts.limit as number)));
  dlq.command("show")
    .description("show one dead letter")
    .argument("<seq>")
    .action(act((s, [seq]) => show(s, seq!)));
  dlq.command("watch")
    .description("follow new dead letters")
    .action(act((s) => watch(s)));
  dlq.command("requeue")
    .description("publish dead letters' tasks again (asks first)")
    .argument("[seq]")
    .option("--all", "every entry, oldest first")
    .action(act((s, [seq], opts) => requeue(s, seq, opts.all === true)));
  dlq.command("purge")
    .description("remove every dead letter (asks first)")
    .action(
      act(async (s) => {
        const broker = await s.broker();
        await s.confirm("Purge the entire DLQ?");
        await purgeDeadLetters(broker);
        s.printer.text("DLQ purged");
      }),
    );
}
