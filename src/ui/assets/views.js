// Rendering helpers of the page: tables, the step detail, breakpoints and signals. Text only via
// textContent (nothing the server sends is parsed as HTML).
/* global document */

/** Creates an element with attributes and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
  return node;
}
const Node = globalThis.Node;

/** A time as local date and time, or "—". */
export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

/** Milliseconds as `850 ms`, `2.4 s`, `3 min`. */
export function duration(ms) {
  if (ms === undefined || ms === null) return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** JSON text pretty-printed when it parses, else as it is. */
export function pretty(text) {
  if (text === undefined || text === null) return "—";
  if (text === "") return "(empty)";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A status chip. */
export function chip(status) {
  return h("span", { class: `chip ${status}` }, status);
}

/** Replaces a tbody's rows. */
export function fillTable(tbody, rows) {
  tbody.replaceChildren(...rows);
}

/** What a pending step waits on, as a sentence. */
export function waitsText(w) {
  if (!w) return "—";
  const parts = [];
  if (w.deps?.length) parts.push(`dependencies ${w.deps.join(", ")}`);
  if (w.afterBreakpoints?.length) parts.push(`the after-breakpoint of ${w.afterBreakpoints.join(", ")}`);
  if (w.breakpoint) parts.push("its own breakpoint");
  if (w.held) parts.push("a pause of the DAG");
  if (w.signals?.length) parts.push(`signal ${w.signals.join(", ")}`);
  return parts.length ? parts.join("; ") : "nothing (about to start)";
}

/** The step detail as definition-list rows. */
export function stepFields(d) {
  const s = d.step;
  const rows = [
    ["handler", s.fnName],
    ["status", chip(s.status)],
    ["attempts", String(s.attempt)],
    ["worker", s.workerId ?? "—"],
    ["added", when(s.addedAt)],
    ["started", when(s.startedAt)],
    ["finished", when(s.finishedAt)],
    ["queued for", duration(d.queueMs)],
    ["ran for", duration(d.execMs)],
    ["waits on", waitsText(s.waitingOn)],
  ];
  if (s.queued) rows.push(["queued task", `${s.queued.target ? `target ${s.queued.target}` : "any worker"}${s.queued.taskPaused ? "; task name paused" : ""}`]);
  if (s.errorKind || s.errorMessage) rows.push(["error", `${s.errorKind ?? ""}${s.errorKind && s.errorMessage ? ": " : ""}${s.errorMessage ?? ""}`]);
  if (s.deps?.length) rows.push(["depends on", s.deps.join(", ")]);
  rows.push(["arguments", h("pre", { class: "code" }, pretty(s.argsJson))]);
  rows.push(["result", h("pre", { class: "code" }, d.result === null ? "—" : pretty(d.result))]);
  return rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]);
}
