/**
 * `ebctl dag bp ls|resume` (reference §4.2): a DAG's breakpoints, and releasing a label.
 * @module
 */
import type { Command } from "commander";
import type { BreakpointInfo } from "../../workflow/index.js";
import type { Act } from "../action.js";
import { age } from "../format.js";
import { breakpointJson } from "../records-json.js";

/** The rows of `dag bp ls`: STEP POS LABELS ARMED STATE SINCE HOLDING. */
export function breakpointRows(bps: readonly BreakpointInfo[], now: number = Date.now()): string[][] {
  return bps.map((b) => [
    b.stepId,
    b.position,
    b.labels.join(","),
    b.armed ? "yes" : "no",
    b.state ?? "-",
    b.state === "blocked" && b.blockedSince !== undefined ? age(b.blockedSince, now) : "-",
    b.holding !== undefined && b.holding.length > 0 ? b.holding.join(",") : "-",
  ]);
}

/** Adds `bp ls` and `bp resume` to `dag`. */
export function registerDagBpCommands(dag: Command, act: Act): void {
  const bp = dag.command("bp").description("a DAG's breakpoints");
  bp.command("ls")
    .description("list a DAG's breakpoints")
    .argument("<dag>")
    .action(
      act(async (s, [id]) => {
        const bps = await (await s.workflow()).listBreakpoints(id!);
        if (bps.length === 0 && s.printer.format === "pretty") return s.printer.text("no breakpoints declared");
        s.printer.table(["STEP", "POS", "LABELS", "ARMED", "STATE", "SINCE", "HOLDING"], breakpointRows(bps), bps.map(breakpointJson));
      }),
    );
  bp.command("resume")
    .description("release the breakpoints of a label")
    .argument("<dag>")
    .argument("<label>")
    .action(
      act(async (s, [id, label]) => {
        const released = await (await s.workflow()).resumeBreakpoint(id!, label!);
        s.printer.value(`released ${released} breakpoint(s) for label "${label!}" in ${id!}`, { dag_id: id, label, released });
      }),
    );
}
