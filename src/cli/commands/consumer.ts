/**
 * `ebctl consumer ls|info` (reference §4.2).
 * @module
 */
import type { Command } from "commander";
import { jetstreamManager, type ConsumerInfo } from "@nats-io/jetstream";
import type { Act } from "../action.js";
import { CliError } from "../errors.js";
import { prettyJson } from "../json.js";

function filterOf(c: ConsumerInfo): string | undefined {
  const f = c.config.filter_subjects?.length ? c.config.filter_subjects.join(",") : c.config.filter_subject;
  return f === undefined || f === "" ? undefined : f;
}

function wrapNotFound(err: unknown, what: string): unknown {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  if ([10014, 10059].includes(e?.api_error?.err_code ?? 0) || /not found/i.test(e?.message ?? "")) return new CliError(`${what} not found`);
  return err;
}

/** Adds the `consumer` commands to the program. */
export function registerConsumerCommands(program: Command, act: Act): void {
  const consumer = program.command("consumer").description("JetStream consumers");
  consumer
    .command("ls")
    .description("list a stream's consumers")
    .argument("<stream>")
    .action(
      act(async (s, [stream]) => {
        const jsm = await jetstreamManager((await s.broker()).connection, { timeout: s.timeoutMs });
        const infos: ConsumerInfo[] = [];
        try {
          for await (const c of jsm.consumers.list(stream!)) infos.push(c);
        } catch (err) {
          throw wrapNotFound(err, `stream ${stream!}`);
        }
        infos.sort((a, b) => (a.name < b.name ? -1 : 1));
        s.printer.table(
          ["NAME", "DURABLE", "PENDING", "DELIVERED", "ACK-FLOOR", "REDELIVERED", "FILTER"],
          infos.map((c) => [c.name, c.config.durable_name ? "yes" : "no", String(c.num_pending), String(c.delivered.stream_seq), String(c.ack_floor.stream_seq), String(c.num_redelivered), filterOf(c) ?? "-"]),
          infos.map((c) => ({
            name: c.name,
            durable: c.config.durable_name || undefined,
            pending: c.num_pending,
            delivered: c.delivered.stream_seq,
            ack_floor: c.ack_floor.stream_seq,
            redelivered: c.num_redelivered,
            waiting: c.num_waiting,
            filter: filterOf(c),
          })),
        );
      }),
    );
  consumer
    .command("info")
    .description("show a consumer's info")
    .argument("<stream>")
    .argument("<consumer>")
    .action(
      act(async (s, [stream, name]) => {
        const jsm = await jetstreamManager((await s.broker()).connection, { timeout: s.timeoutMs });
        let c: ConsumerInfo;
        try {
          c = await jsm.consumers.info(stream!, name!);
        } catch (err) {
          throw wrapNotFound(err, `consumer ${stream!}/${name!}`);
        }
        s.printer.value(prettyJson(c), c);
      }),
    );
}
