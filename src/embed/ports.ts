/**
 * Reserving free loopback TCP ports.
 *
 * Reference: ebind-reference.md §1.6 (`StartCluster` reserves `2×Size` ports in one pass, all
 * listeners held open until all are chosen, so the sets are disjoint) and §6.4 `TestFreePorts_Distinct`.
 * @module
 */
import { createServer, type Server } from "node:net";
import { EbindError } from "../task/errors.js";

/**
 * Returns `count` distinct free TCP ports on `host`.
 *
 * Every port is found by binding a listener to port 0; all listeners stay open until all ports are
 * chosen (so no port is returned twice), then all are closed before the promise resolves. Another
 * process may take a port between this call and its use: callers retry on `address already in use`.
 *
 * @param count how many ports, an integer ≥ 0.
 * @param host the address to bind; default `"127.0.0.1"`.
 * @throws EbindError `invalid_argument` for a bad count; `unavailable` if binding fails.
 */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  if (!Number.isInteger(count) || count < 0) {
    throw new EbindError("invalid_argument", `embed: port count must be an integer >= 0, got ${count}`);
  }
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolvePort, reject) => {
          server.once("error", reject);
          server.listen(0, host, () => {
            const addr = server.address();
            if (addr === null || typeof addr === "string") reject(new Error("no TCP address"));
            else resolvePort(addr.port);
          });
        }),
      );
    }
    return ports;
  } catch (err) {
    throw new EbindError("unavailable", `embed: cannot reserve ports on ${host}: ${String(err)}`, { cause: err });
  } finally {
    await Promise.all(
      servers.map((s) => new Promise<void>((done) => (s.listening ? s.close(() => done()) : done()))),
    );
  }
}
