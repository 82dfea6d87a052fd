// The DAG graph: dagre (served from the package, global `dagre`) lays the steps out, this draws
// them as SVG. Nodes carry their status as a class (`status-done`…) and in their accessible name,
// so live updates only change a class and a label.
/* global document */

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 170;
const NODE_H = 44;

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function shorten(text, max) {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/** The subtitle of a node: its status, attempts, and what holds it. */
function subtitle(step) {
  const parts = [step.status];
  if (step.attempt > 1) parts.push(`attempt ${step.attempt}`);
  const w = step.waitingOn;
  if (w?.breakpoint || w?.afterBreakpoints?.length || step.bpBefore === "blocked" || step.bpAfter === "blocked") parts.push("at breakpoint");
  if (w?.signals?.length) parts.push("awaits signal");
  if (w?.held) parts.push("held");
  return parts.join(" · ");
}

/**
 * Draws `steps` (records with `stepId`, `status`, `deps`, `optionalDeps`) into `container`.
 * `onSelect(stepId)` is called when a node is clicked or activated with the keyboard.
 */
export function drawGraph(container, steps, selected, onSelect) {
  const dagre = globalThis.dagre;
  container.textContent = "";
  if (!dagre) {
    container.textContent = "graph layout library not loaded";
    return;
  }
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 46, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(steps.map((s) => s.stepId));
  for (const s of steps) g.setNode(s.stepId, { width: NODE_W, height: NODE_H });
  for (const s of steps) {
    for (const d of s.deps ?? []) if (ids.has(d)) g.setEdge(d, s.stepId, { optional: false });
    for (const d of s.optionalDeps ?? []) if (ids.has(d)) g.setEdge(d, s.stepId, { optional: true });
  }
  dagre.layout(g);
  const { width, height } = g.graph();
  const svg = el("svg", { width: Math.max(width, 200), height: Math.max(height, 60), viewBox: `0 0 ${Math.max(width, 200)} ${Math.max(height, 60)}`, role: "group" }, container);
  const defs = el("defs", {}, svg);
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
  el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);
  for (const e of g.edges()) {
    const edge = g.edge(e);
    const d = edge.points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
    el("path", { d, class: edge.optional ? "edge optional" : "edge", "marker-end": "url(#arrow)" }, svg);
  }
  for (const s of steps) {
    const n = g.node(s.stepId);
    const group = el("g", { class: "node", transform: `translate(${n.x - NODE_W / 2},${n.y - NODE_H / 2})`, tabindex: 0, role: "button", "data-step": s.stepId }, svg);
    el("rect", { width: NODE_W, height: NODE_H, rx: 6 }, group);
    const title = el("text", { x: 10, y: 18, class: "title" }, group);
    title.textContent = shorten(s.stepId, 22);
    el("text", { x: 10, y: 34, class: "sub" }, group);
    setNodeState(group, s);
    if (s.stepId === selected) group.classList.add("selected");
    group.addEventListener("click", () => onSelect(s.stepId));
    group.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") onSelect(s.stepId);
    });
  }
}

/** Updates one node's status class, subtitle and accessible name. */
export function setNodeState(group, step) {
  for (const c of [...group.classList]) if (c.startsWith("status-")) group.classList.remove(c);
  group.classList.add(`status-${step.status}`);
  group.setAttribute("data-status", step.status);
  group.setAttribute("aria-label", `step ${step.stepId}: ${step.status}`);
  const sub = group.querySelector("text.sub");
  if (sub) sub.textContent = shorten(subtitle(step), 28);
}

/** Recolours the node of a step after a live change; false when the graph has no such node. */
export function updateNode(container, step) {
  const group = [...container.querySelectorAll("g.node")].find((g) => g.getAttribute("data-step") === step.stepId);
  if (!group) return false;
  setNodeState(group, step);
  return true;
}
