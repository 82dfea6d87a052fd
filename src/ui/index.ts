/**
 * The live web dashboard (issue 13): DAG list, live graphs, step details, controls, DLQ, streams.
 * `ebctl ui` starts it; any process with a broker and a workflow can too.
 *
 * @example
 * import { startDashboard } from "ebind/ui";
 * const ui = await startDashboard({ broker, workflow });           // 127.0.0.1, a free port
 * console.log(`dashboard: ${ui.url}`);                              // http://127.0.0.1:PORT/#token=…
 * await ui.close();
 * @module
 */
export { startDashboard, MIN_TOKEN_LENGTH } from "./server.js";
export type { Dashboard, DashboardOptions } from "./server.js";
export { TOKEN_HEADER, isLoopbackHost } from "./security.js";
export { registerUiCommand, DEFAULT_UI_PORT } from "./command.js";
