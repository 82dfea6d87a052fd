/**
 * The `ebctl` command tree (reference §4) on commander, and {@link runCli}, which runs it in-process
 * against injected streams and returns the exit status: the bin is a thin wrapper around it, and
 * tests call it directly.
 * @module
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { actOn, type Act } from "./action.js";
import { registerConsumerCommands } from "./commands/consumer.js";
import { registerDagBpCommands } from "./commands/dag-bp.js";
import { registerDagSignalCommands } from "./commands/dag-signal.js";
import { registerDagStepCommands } from "./commands/dag-step.js";
import { registerDagWatchCommand } from "./commands/dag-watch.js";
import { registerDagCommands } from "./commands/dag.js";
import { registerDlqCommands } from "./commands/dlq.js";
import { registerStreamCommands } from "./commands/stream.js";
import { bashCompletion, fishCompletion, zshCompletion } from "./completion.js";
import type { CliIo } from "./io.js";
import { Session, type GlobalFlags } from "./session.js";

/** The package's version (`dev` when package.json cannot be read). */
export function ebctlVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "dev";
  } catch {
    return "dev";
  }
}

/** Adds commands of a layer above the CLI (the dashboard's `ui`) to the program. */
export type ExtendProgram = (program: Command, act: Act) => void;

/**
 * Builds the command tree. Commands run against the {@link Session} that `session()` returns; the
 * program's `preAction` hook creates it through `open` from the global flags.
 */
export function buildProgram(io: CliIo, open: (flags: GlobalFlags) => Session, session: () => Session, extend?: ExtendProgram): Command {
  const program = new Command("ebctl")
    .description("operate ebind: DAGs, the dead-letter queue, streams and consumers")
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s), outputError: () => undefined })
    .showSuggestionAfterError(true)
    .option("-s, --server <url>", "NATS server URL(s) (env EBIND_NATS_URL, NATS_URL; default nats://127.0.0.1:4222)")
    .option("--user <user>", "user name (env NATS_USER)")
    .option("--password <password>", "password (env NATS_PASSWORD)")
    .option("--token <token>", "authentication token (env NATS_TOKEN)")
    .option("--creds <file>", "user credentials file (env NATS_CREDS)")
    .option("--nkey <file>", "user nkey seed file (env NATS_NKEY)")
    .option("--tlscert <file>", "TLS client certificate (env NATS_CERT)")
    .option("--tlskey <file>", "TLS client key (env NATS_KEY)")
    .option("--tlsca <file>", "TLS certificate authority (env NATS_CA)")
    .option("--context <name>", "nats CLI context to use (env NATS_CONTEXT)")
    .option("-o, --output <format>", "output format: pretty|json", "pretty")
    .option("--timeout <duration>", "connect timeout", "10s")
    .option("--yes", "skip confirmations")
    .addOption(new Option("-v, --verbose", "verbose output (accepted, unused)"))
    .option("--replicas <n>", "KV and event stream replicas when the workflow layer is created (default: the task stream's)");
  program.hook("preAction", (_root, actionCmd) => {
    open(actionCmd.optsWithGlobals());
  });
  const act = actOn(session);

  program
    .command("version")
    .description("print ebctl's version")
    .action(act(async (s) => s.printer.text(`ebctl ${ebctlVersion()}`)));
  const completion = program.command("completion").description("print a shell completion script");
  for (const [shell, gen] of [
    ["bash", bashCompletion],
    ["zsh", zshCompletion],
    ["fish", fishCompletion],
  ] as const) {
    completion
      .command(shell)
      .description(`completion script for ${shell}`)
      .action(() => void io.stdout.write(gen(program)));
  }

  const dag = program.command("dag").description("DAG workflows");
  registerDagCommands(dag, act);
  registerDagWatchCommand(dag, act);
  registerDagStepCommands(dag, act);
  registerDagBpCommands(dag, act);
  registerDagSignalCommands(dag, act);
  registerDlqCommands(program, act);
  registerStreamCommands(program, act);
  registerConsumerCommands(program, act);
  extend?.(program, act);
  return program;
}

/**
 * Runs ebctl with `argv` (the arguments after the program name) against `io`.
 * Errors are printed to stderr as `ebctl: <error>` (no usage) and give status 1. `extend` adds the
 * commands of layers above the CLI (the bin adds `ui`).
 * @returns the exit status: 0 on success, 1 on any error.
 */
export async function runCli(argv: readonly string[], io: CliIo, extend?: ExtendProgram): Promise<number> {
  let current: Session | undefined;
  const program = buildProgram(
    io,
    (flags) => (current = new Session(io, flags)),
    () => {
      if (!current) throw new Error("ebctl: no session (preAction hook did not run)");
      return current;
    },
    extend,
  );
  try {
    if (argv.length === 0) {
      io.stdout.write(program.helpInformation());
      return 0;
    }
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.help") return err.code === "commander.help" ? 0 : err.exitCode;
      io.stderr.write(`ebctl: ${err.message.replace(/^error: /, "")}\n`);
      return 1;
    }
    io.stderr.write(`ebctl: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await current?.close();
  }
}
