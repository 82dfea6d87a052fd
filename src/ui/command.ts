/**
 * `ebctl ui [--port N] [--host ADDR] [--ui-token T]`: serves the dashboard on the connection the
 * global flags open (issue 13), prints its address with the token, and runs until SIGINT/SIGTERM.
 * Added to ebctl's tree by the bin (the CLI layer sits below this one).
 * @module
 */
import type { Command } from "commander";
import { CliError, type Act } from "../cli/index.js";
import { startDashboard } from "./server.js";

/** The dashboard's default port when `--port` is not given. */
export const DEFAULT_UI_PORT = 7420;

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new Error(`invalid port "${value}": want 0-65535 (0 picks a free one)`);
  return n;
}

/**
 * Adds `ui` to an ebctl program. Options: `--port` (default 7420; 0 = a free port), `--host`
 * (default 127.0.0.1; any other address makes every request need the token), `--ui-token` (env
 * `EBIND_UI_TOKEN`; default a random one, printed). Pretty output prints the address; `-o json`
 * prints `{"url","token","port"}`. The NATS token flag `--token` is unrelated and never shown.
 * @throws CliError when the port is taken or the token is shorter than 16 characters.
 */
export function registerUiCommand(program: Command, act: Act): void {
  program
    .command("ui")
    .description("serve the live web dashboard (DAGs, graphs, controls, dead letters, streams)")
    .option("--port <port>", `port to listen on (0 = a free one; default ${DEFAULT_UI_PORT})`, parsePort)
    .option("--host <address>", "address to listen on; anything but loopback requires the token on every request", "127.0.0.1")
    .option("--ui-token <token>", "the dashboard's access token (env EBIND_UI_TOKEN; default: random, printed)")
    .action(
      act(async (s, _args, opts) => {
        s.follow(); // a dashboard outlives server restarts: reconnect for as long as it takes
        const broker = await s.broker();
        const workflow = await s.workflow();
        const token = (opts.uiToken as string | undefined) ?? s.io.env.EBIND_UI_TOKEN;
        const host = opts.host as string;
        const port = (opts.port as number | undefined) ?? DEFAULT_UI_PORT;
        let dashboard;
        try {
          dashboard = await startDashboard({
            broker,
            workflow,
            host,
            port,
            token: token === "" ? undefined : token,
          });
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          if (e.code === "EADDRINUSE") throw new CliError(`ui: ${host}:${port} is in use (pass --port 0 for a free port)`);
          throw err;
        }
        s.printer.value(`dashboard: ${dashboard.url}\n(Ctrl-C to stop)`, { url: dashboard.url, token: dashboard.token, port: dashboard.port });
        // Until stopped (without a signal: until the process ends), or until the connection closes
        // for good (auth revoked, closed by the server): then fail below.
        await Promise.race([s.stopped(), broker.connection.closed()]);
        await dashboard.close();
        await s.failIfLost();
      }),
    );
}
