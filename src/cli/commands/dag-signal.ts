/**
 * `ebctl dag signal <dag> <name> [json-payload]` and `dag signal ls <dag>` (reference §4.2).
 * @module
 */
import type { Command } from "commander";
import { validateJson } from "../../task/index.js";
import type { SignalInfo } from "../../workflow/index.js";
import type { Act } from "../action.js";
import { CliError } from "../errors.js";
import { age } from "../format.js";
import { signalJson } from "../records-json.js";
import type { Session } from "../session.js";

/** A payload cut to `max` code points: longer ⇒ the first `max − 1` and `…`; none ⇒ `-`. */
export function truncatePayload(payload: string | undefined, max = 40): string {
  if (payload === undefined || payload === "") return "-";
  const runes = [...payload];
  return runes.length <= max ? payload : `${runes.slice(0, max - 1).join("")}…`;
}

/** The rows of `dag signal ls`: NAME DELIVERED AT WAITING PAYLOAD. */
export function signalRows(signals: readonly SignalInfo[], now: number = Date.now()): string[][] {
  return signals.map((g) => [
    g.name,
    g.delivered ? "yes" : "no",
    g.deliveredAt !== undefined ? `${age(g.deliveredAt, now)} ago` : "-",
    g.waiting !== undefined && g.waiting.length > 0 ? g.waiting.join(",") : "-",
    truncatePayload(g.payload),
  ]);
}

async function send(s: Session, dagId: string, name: string, payload: string | undefined): Promise<void> {
  const json = payload ?? "null";
  try {
    validateJson(json);
  } catch {
    throw new CliError(`payload is not valid JSON: ${JSON.stringify(json)}`);
  }
  const wf = await s.workflow();
  const delivered = await wf.signal(dagId, name, undefined, { payloadJson: json });
  let text: string;
  if (delivered) text = `delivered signal "${name}" to ${dagId}`;
  else {
    const { meta } = await wf.dagInfo(dagId);
    text = ["done", "failed", "canceled"].includes(meta.status) ? `DAG is ${meta.status}; signal "${name}" not delivered` : `signal "${name}" already delivered to ${dagId} (first payload kept)`;
  }
  s.printer.value(text, { dag_id: dagId, name, delivered });
}

/** Adds `signal` and `signal ls` to `dag`. */
export function registerDagSignalCommands(dag: Command, act: Act): void {
  const signal = dag
    .command("signal")
    .description("deliver a signal to a DAG (payload: JSON, default null)")
    .argument("<dag>")
    .argument("<name>")
    .argument("[json-payload]")
    .action(act((s, [id, name, payload]) => send(s, id!, name!, payload)));
  signal
    .command("ls")
    .description("list a DAG's signals")
    .argument("<dag>")
    // `dag signal ls <name> <json-payload>` is a signal to a DAG whose id is `ls`, which the
    // subcommand would otherwise make unreachable (give the payload, `null` for none).
    .argument("[json-payload]")
    .action(
      act(async (s, [id, payload]) => {
        if (payload !== undefined) return send(s, "ls", id!, payload);
        const signals = await (await s.workflow()).listSignals(id!);
        if (signals.length === 0 && s.printer.format === "pretty") return s.printer.text("no signals referenced or delivered");
        s.printer.table(["NAME", "DELIVERED", "AT", "WAITING", "PAYLOAD"], signalRows(signals), signals.map(signalJson));
      }),
    );
}
