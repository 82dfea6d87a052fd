/**
 * `ebctl`, the operator CLI (reference §4), as a library: {@link runCli} runs it in-process, and
 * `extend` lets a layer above (the dashboard's `ui` command) add commands to its tree.
 * @module
 */
export { runCli, buildProgram, ebctlVersion } from "./program.js";
export type { ExtendProgram } from "./program.js";
export type { Act, CommandAction } from "./action.js";
export { nonNegativeInt } from "./action.js";
export type { Session, GlobalFlags } from "./session.js";
export type { CliIo } from "./io.js";
export { CliError } from "./errors.js";
