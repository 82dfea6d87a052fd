/**
 * Rendering a `nats-server` configuration file.
 *
 * Reference: nats-2.9-notes.md §7 (the per-node config shape: `server_name`, `listen`, `http`,
 * `jetstream {store_dir}`, `cluster {name, listen, routes}`).
 * @module
 */

/** What goes into one node's configuration file. Ports of `-1` let the server choose. */
export interface ServerConfig {
  /** `server_name`; unique within a cluster. */
  readonly serverName: string;
  /** Address the client, monitoring and cluster listeners bind to, e.g. `"127.0.0.1"`. */
  readonly host: string;
  /** Client port; `-1` = the server picks a free one (reported in its log). */
  readonly port: number;
  /** HTTP monitoring port; `-1` = the server picks a free one (reported in its log). */
  readonly monitorPort: number;
  /** JetStream `store_dir` (the server adds a `jetstream/` folder inside). */
  readonly storeDir: string;
  /** JetStream `max_memory_store`, bytes. */
  readonly jetstreamMaxMemory?: number | undefined;
  /** `max_payload`, bytes. */
  readonly maxPayload?: number | undefined;
  /** Cluster membership, if any. */
  readonly cluster?: { readonly name: string; readonly port: number; readonly routes: readonly string[] } | undefined;
  /** Configuration text appended verbatim (auth, TLS, accounts). */
  readonly extraConfig?: string | undefined;
}

/** Renders `cfg` as nats-server configuration text (strings JSON-quoted, so any path is safe). */
export function renderConfig(cfg: ServerConfig): string {
  const q = (s: string): string => JSON.stringify(s);
  const lines = [
    `server_name: ${q(cfg.serverName)}`,
    `listen: ${q(`${cfg.host}:${cfg.port}`)}`,
    `http: ${q(`${cfg.host}:${cfg.monitorPort}`)}`,
    "jetstream {",
    `  store_dir: ${q(cfg.storeDir)}`,
    ...(cfg.jetstreamMaxMemory === undefined ? [] : [`  max_memory_store: ${cfg.jetstreamMaxMemory}`]),
    "}",
  ];
  if (cfg.maxPayload !== undefined) lines.push(`max_payload: ${cfg.maxPayload}`);
  if (cfg.cluster !== undefined) {
    lines.push(
      "cluster {",
      `  name: ${q(cfg.cluster.name)}`,
      `  listen: ${q(`${cfg.host}:${cfg.cluster.port}`)}`,
      `  routes: [${cfg.cluster.routes.map(q).join(", ")}]`,
      "}",
    );
  }
  if (cfg.extraConfig !== undefined && cfg.extraConfig.trim() !== "") lines.push(cfg.extraConfig.trimEnd());
  return lines.join("\n") + "\n";
}
