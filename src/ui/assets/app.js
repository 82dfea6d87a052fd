// The dashboard page: speaks only the dashboard's JSON API. The token comes from the URL fragment
// (`#token=…`) and goes in the X-Ebind-Token header of every request; the live event stream
// (server-sent events) says what changed, and the page refetches only that — nothing is polled.
/* global document, window, location, fetch, EventSource, FormData, URLSearchParams, setTimeout, confirm */
import { drawGraph, updateNode } from "./graph.js";
import { chip, fillTable, h, stepFields, when } from "./views.js";

const token = new URLSearchParams(location.hash.slice(1)).get("token") ?? "";
// On a non-loopback bind the page itself was loaded with ?token=: GETs the browser makes by itself carry it too.
const tokenQuery = new URLSearchParams(location.search).has("token") ? `token=${encodeURIComponent(token)}` : "";

const state = { selected: null, step: null, dag: null, tab: "dags" };
const $ = (sel) => document.querySelector(sel);

function notice(text, kind = "info") {
  const box = $("#notice");
  box.textContent = text;
  box.className = kind;
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { "X-Ebind-Token": token, ...(method === "POST" ? { "Content-Type": "application/json" } : {}) },
    body: method === "POST" ? JSON.stringify(body ?? {}) : undefined,
    cache: "no-store",
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error ?? `${res.status} ${res.statusText}`);
  return data;
}

/** Runs a control and reports its outcome; errors are shown, not thrown. */
async function act(label, method, path, body) {
  try {
    const out = await api(method, path, body);
    notice(`${label}: ${JSON.stringify(out)}`, "ok");
    return out;
  } catch (err) {
    notice(`${label} failed: ${err.message}`, "error");
    return undefined;
  }
}

/**
 * Coalesces a burst of calls into one call of `fn`, `ms` after the first of them. Unlike a
 * debounce it never starves: under a steady stream of changes `fn` still runs every `ms`.
 */
function coalesce(fn, ms) {
  let t;
  return () => {
    if (t !== undefined) return;
    t = setTimeout(() => {
      t = undefined;
      void fn();
    }, ms);
  };
}

// ---- DAG list ----

function filterQuery() {
  const f = new FormData($("#filters"));
  const q = new URLSearchParams();
  for (const k of ["status", "id", "labels", "age"]) {
    const v = String(f.get(k) ?? "").trim();
    if (v) q.set(k, v);
  }
  return q.toString();
}

async function loadDags() {
  let data;
  try {
    data = await api("GET", `/api/dags?${filterQuery()}`);
  } catch (err) {
    notice(`DAG list: ${err.message}`, "error");
    return;
  }
  $("#status-counts").replaceChildren(...Object.entries(data.statusCounts).map(([s, n]) => h("span", { class: `chip ${s}` }, `${s} ${n}`)));
  fillTable(
    $("#dag-table tbody"),
    data.dags.map(({ meta, counts }) =>
      h(
        "tr",
        { class: meta.id === state.selected ? "selected" : "", "data-dag": meta.id, onclick: () => selectDag(meta.id) },
        h("td", {}, h("a", { href: "#", onclick: (e) => e.preventDefault() }, meta.id)),
        h("td", {}, chip(meta.status)),
        h("td", {}, counts ? `${counts.done}/${counts.total}${counts.failed ? ` (${counts.failed} failed)` : ""}${counts.blockedBreakpoints ? ", at breakpoint" : ""}${counts.waitingOnSignals ? ", awaits signal" : ""}` : "—"),
        h("td", {}, (meta.labels ?? []).join(", ")),
        h("td", {}, when(meta.createdAt)),
      ),
    ),
  );
  $("#dag-empty").hidden = data.dags.length > 0;
  const more = $("#dag-more");
  more.hidden = data.total <= data.dags.length;
  more.textContent = `newest ${data.dags.length} of ${data.total} shown: narrow the filters (ID, status, labels, age) to find the rest`;
}
const refreshDags = coalesce(loadDags, 500);

// ---- one DAG ----

async function selectDag(id) {
  state.selected = id;
  state.step = null;
  $("#step-detail").hidden = true;
  for (const tr of document.querySelectorAll("#dag-table tbody tr")) tr.classList.toggle("selected", tr.getAttribute("data-dag") === id);
  await loadDag();
}

async function loadDag() {
  const id = state.selected;
  if (!id) return;
  let dag;
  try {
    dag = await api("GET", `/api/dags/${encodeURIComponent(id)}`);
  } catch (err) {
    notice(`DAG ${id}: ${err.message}`, "error");
    return;
  }
  if (id !== state.selected) return;
  state.dag = dag;
  $("#dag-detail").hidden = false;
  $("#dag-title").textContent = id;
  $("#dag-status").replaceChildren(chip(dag.meta.status));
  drawGraph($("#graph"), dag.steps, state.step, selectStep);
  renderBreakpoints(dag.breakpoints);
  renderSignals(dag.signals);
  if (state.step) await loadStep();
}
const refreshDag = coalesce(loadDag, 150);

function renderBreakpoints(bps) {
  const items = bps.map((b) => {
    const labels = b.labels.join(", ");
    const text = `${b.stepId} (${b.position}) [${labels}] ${b.state ?? (b.armed ? "armed" : "disarmed")}${b.holding?.length ? ` holding ${b.holding.join(", ")}` : ""}`;
    const buttons =
      b.state === "blocked"
        ? b.labels.map((label) => h("button", { type: "button", "data-label": label, onclick: () => continueBreakpoint(label) }, `Continue ${label}`))
        : [];
    return h("li", { class: b.state ?? "" }, text, ...buttons);
  });
  $("#breakpoints").replaceChildren(...(items.length ? items : [h("li", { class: "muted" }, "none")]));
}

function renderSignals(signals) {
  const items = signals.map((s) =>
    h("li", {}, `${s.name}: `, s.delivered ? `delivered ${when(s.deliveredAt)} ${s.payload ?? ""}` : `awaited by ${(s.waiting ?? []).join(", ") || "—"}`),
  );
  $("#signals").replaceChildren(...(items.length ? items : [h("li", { class: "muted" }, "none")]));
}

async function continueBreakpoint(label) {
  await act(`continue breakpoint ${label}`, "POST", `/api/dags/${encodeURIComponent(state.selected)}/breakpoint`, { label });
}

async function selectStep(stepId) {
  state.step = stepId;
  for (const g of document.querySelectorAll("#graph g.node")) g.classList.toggle("selected", g.getAttribute("data-step") === stepId);
  await loadStep();
}

async function loadStep() {
  const { selected, step } = state;
  try {
    const d = await api("GET", `/api/dags/${encodeURIComponent(selected)}/steps/${encodeURIComponent(step)}`);
    if (selected !== state.selected || step !== state.step) return;
    $("#step-title").textContent = step;
    $("#step-fields").replaceChildren(...stepFields(d));
    $("#step-detail").hidden = false;
  } catch (err) {
    notice(`step ${step}: ${err.message}`, "error");
  }
}

// ---- dead letters ----

async function loadDlq() {
  let data;
  try {
    data = await api("GET", "/api/dlq");
  } catch (err) {
    notice(`DLQ: ${err.message}`, "error");
    return;
  }
  $("#dlq-count").textContent = data.total ? String(data.total) : "";
  $("#dlq-total").textContent = `${data.total} entr${data.total === 1 ? "y" : "ies"}${data.total > data.entries.length ? ` (newest ${data.entries.length} shown)` : ""}`;
  fillTable(
    $("#dlq-table tbody"),
    data.entries.map((l) => {
      const e = l.entry;
      const task = e?.task;
      return h(
        "tr",
        { "data-seq": l.seq },
        h("td", {}, String(l.seq)),
        h("td", {}, task?.name ?? "(undecodable)"),
        h("td", {}, task?.dagId ? `${task.dagId} / ${task.stepId ?? ""}` : "—"),
        h("td", {}, e ? `${e.error.kind}: ${e.error.message}` : l.decodeError),
        h("td", {}, e ? String(e.finalAttempt) : "—"),
        h("td", {}, when(e?.deadLetteredAt ?? l.storedAt)),
        h(
          "td",
          {},
          h("button", { type: "button", onclick: () => showLetter(l.seq) }, "Show"),
          h("button", { type: "button", onclick: () => act(`requeue ${l.seq}`, "POST", `/api/dlq/${l.seq}/requeue`) }, "Requeue"),
        ),
      );
    }),
  );
}
const refreshDlq = coalesce(loadDlq, 250);

async function showLetter(seq) {
  try {
    const l = await api("GET", `/api/dlq/${seq}`);
    const box = $("#dlq-show");
    // The task's payload is JSON text: show it parsed when it parses.
    let payload = l.entry?.task.payload;
    try {
      payload = JSON.parse(payload);
    } catch {
      /* shown as text */
    }
    box.textContent = JSON.stringify(l.entry ? { ...l, entry: { ...l.entry, task: { ...l.entry.task, payload } } } : l, null, 2);
    box.hidden = false;
  } catch (err) {
    notice(`DLQ entry ${seq}: ${err.message}`, "error");
  }
}

// ---- streams ----

async function loadStreams() {
  let data;
  try {
    data = await api("GET", "/api/streams");
  } catch (err) {
    notice(`streams: ${err.message}`, "error");
    return;
  }
  const n = (x) => (x === undefined ? "" : String(x));
  fillTable(
    $("#stream-table tbody"),
    data.streams.flatMap((s) => [
      h("tr", { class: "stream" }, h("td", {}, s.name), h("td", {}, n(s.messages)), h("td", {}, n(s.bytes)), h("td", {}, `${s.firstSeq}–${s.lastSeq}`), h("td", {}, n(s.consumerCount)), h("td"), h("td"), h("td")),
      ...(s.consumers ?? []).map((c) =>
        h("tr", { class: "consumer" }, h("td", {}, `↳ ${c.name}${c.filterSubject ? ` (${c.filterSubject})` : ""}`), h("td"), h("td"), h("td"), h("td"), h("td", {}, n(c.pending)), h("td", {}, n(c.ackPending)), h("td", {}, n(c.redelivered))),
      ),
    ]),
  );
}

// ---- live events ----

function onDagChange(change) {
  if (change.type === "meta") refreshDags();
  if (change.dagId !== state.selected) return;
  if (change.type === "meta" && change.meta) $("#dag-status").replaceChildren(chip(change.meta.status));
  if (change.type === "step" && change.step) {
    // Recolour at once; the refetch brings what the step now waits on (and new dynamic steps).
    updateNode($("#graph"), change.step);
  }
  refreshDag();
}

function connect() {
  const live = $("#live");
  const source = new EventSource(`/api/events${tokenQuery ? `?${tokenQuery}` : ""}`);
  source.addEventListener("hello", () => {
    live.textContent = "live";
    live.className = "live on";
    void loadDags();
    void loadDlq();
    if (state.selected) void loadDag();
  });
  source.addEventListener("dag", (ev) => onDagChange(JSON.parse(ev.data)));
  source.addEventListener("dlq", () => refreshDlq());
  source.addEventListener("down", (ev) => notice(`live updates interrupted: ${JSON.parse(ev.data).message}`, "error"));
  source.addEventListener("error", () => {
    live.textContent = "reconnecting…";
    live.className = "live off";
  });
}

// ---- wiring ----

function showTab(tab) {
  state.tab = tab;
  for (const b of document.querySelectorAll("nav .tab")) b.classList.toggle("active", b.getAttribute("data-tab") === tab);
  for (const name of ["dags", "dlq", "streams"]) $(`#tab-${name}`).hidden = name !== tab;
  if (tab === "streams") void loadStreams();
  if (tab === "dlq") void loadDlq();
}

for (const b of document.querySelectorAll("nav .tab")) b.addEventListener("click", () => showTab(b.getAttribute("data-tab")));
$("#filters").addEventListener("submit", (e) => {
  e.preventDefault();
  void loadDags();
});
for (const b of document.querySelectorAll("#dag-detail [data-action]")) {
  b.addEventListener("click", () => {
    const action = b.getAttribute("data-action");
    if (action === "cancel" && !confirm(`Cancel DAG ${state.selected}?`)) return;
    void act(`${action} ${state.selected}`, "POST", `/api/dags/${encodeURIComponent(state.selected)}/${action}`);
  });
}
$("#signal-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  void act(`signal ${f.get("name")}`, "POST", `/api/dags/${encodeURIComponent(state.selected)}/signal`, { name: f.get("name"), payload: f.get("payload") });
});
$("#dlq-requeue-all").addEventListener("click", () => void act("requeue all", "POST", "/api/dlq/requeue-all"));
$("#dlq-purge").addEventListener("click", () => {
  if (confirm("Remove every dead letter?")) void act("purge", "POST", "/api/dlq/purge");
});

if (!token) notice("No token in the address (#token=…): reading works on loopback, controls will be refused.", "error");
window.addEventListener("hashchange", () => location.reload());
connect();
