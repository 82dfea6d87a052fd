/**
 * The bridge between commander and ebctl's commands: a command's action receives the run's
 * {@link Session}, its positional arguments and its own options.
 * @module
 */
import type { Command } from "commander";
import type { Session } from "./session.js";

/** What a command does: writes its output through `session.printer`, throws to fail. */
export type CommandAction = (session: Session, args: string[], opts: Record<string, unknown>) => Promise<void>;

/** Turns a {@link CommandAction} into a commander action handler. */
export type Act = (fn: CommandAction) => (...commanderArgs: unknown[]) => Promise<void>;

/** Builds {@link Act} over the session the program's `preAction` hook creates. */
export function actOn(session: () => Session): Act {
  return (fn) =>
    async (...a: unknown[]): Promise<void> => {
      const cmd = a[a.length - 1] as Command;
      const opts = cmd.opts();
      const args = a.slice(0, -2).flatMap((v) => (v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string]));
      await fn(session(), args, opts);
    };
}

/** An integer flag ≥ 0 (`--limit`, `--last`, `--keep`), for commander's argument parser. */
export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`invalid count "${value}": want an integer ≥ 0`);
  return Number(value);
}

/** Collects a repeatable flag's values (`--label a --label b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
