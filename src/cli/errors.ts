/**
 * The error ebctl prints as is (`ebctl: <message>`, exit status 1): bad input, refusals, aborts.
 * Errors of the layers below are printed the same way, by their message.
 * @module
 */

/** An error whose message is the whole story for the operator. */
export class CliError extends Error {
  override readonly name = "CliError";
}
