/**
 * The dashboard's security rules (issue 13), each tried as an attack over HTTP: missing and wrong
 * token on POST, GET on a control route, cross-origin Origin, a wrong Content-Type, a rebound Host,
 * a non-loopback bind without the token, and what every response carries (headers, no CORS, no
 * connection options).
 */
import { hostname } from "node:os";
import { expect, it } from "vitest";
import { startDashboard } from "../../../src/ui/index.js";
import { describeNats } from "../../support/nats.js";
import { control, echo, http, useUiEnv } from "./env.js";

describeNats("dashboard security", () => {
  const env = useUiEnv();

  /** A DAG paused until released, to see that refused controls changed nothing. */
  async function blockedDag(): Promise<string> {
    const { workflow } = env();
    const dag = workflow.dag();
    dag.step("held", echo, 1).breakBefore("stop");
    await workflow.submit(dag, { breakpoints: ["stop"] });
    return dag.id;
  }

  it("a POST without the token, or with a wrong one, is refused with 401 and changes nothing", async () => {
    const { dashboard, workflow } = env();
    const id = await blockedDag();
    const missing = await http(dashboard.port, "POST", `/api/dags/${id}/cancel`, { headers: { "Content-Type": "application/json" }, body: {} });
    expect(missing.status).toBe(401);
    expect(missing.json.error).toMatch(/X-Ebind-Token/);
    const wrong = await http(dashboard.port, "POST", `/api/dags/${id}/cancel`, { headers: control("x".repeat(dashboard.token.length)), body: {} });
    expect(wrong.status).toBe(401);
    expect((await workflow.dagInfo(id)).meta.status).toBe("running");
    const right = await http(dashboard.port, "POST", `/api/dags/${id}/cancel`, { headers: control(dashboard.token), body: {} });
    expect(right.status).toBe(200);
    expect(right.json).toEqual({ canceled: true });
    expect((await workflow.dagInfo(id)).meta.status).toBe("canceled");
  });

  it("a GET (or any other method) on a control route is 405, even with the token", async () => {
    const { dashboard } = env();
    const id = await blockedDag();
    for (const path of [`/api/dags/${id}/cancel`, `/api/dags/${id}/pause`, "/api/dlq/purge", "/api/dlq/requeue-all", "/api/dlq/1/requeue"]) {
      const got = await http(dashboard.port, "GET", path, { headers: { "X-Ebind-Token": dashboard.token } });
      expect(got.status, path).toBe(405);
      expect(got.headers.allow).toBe("POST");
    }
    const put = await http(dashboard.port, "PUT", `/api/dags/${id}/cancel`, { headers: control(dashboard.token), body: {} });
    expect(put.status).toBe(405);
    expect((await env().workflow.dagInfo(id)).meta.status).toBe("running");
  });

  it("a request from another origin is refused (403), even with the token; the dashboard's own origin passes", async () => {
    const { dashboard, workflow } = env();
    const id = await blockedDag();
    const evil = await http(dashboard.port, "POST", `/api/dags/${id}/pause`, { headers: { ...control(dashboard.token), Origin: "http://evil.example" }, body: {} });
    expect(evil.status).toBe(403);
    const crossSite = await http(dashboard.port, "POST", `/api/dags/${id}/pause`, { headers: { ...control(dashboard.token), "Sec-Fetch-Site": "cross-site" }, body: {} });
    expect(crossSite.status).toBe(403);
    const read = await http(dashboard.port, "GET", "/api/dags", { headers: { Origin: "http://evil.example" } });
    expect(read.status).toBe(403);
    expect((await workflow.dagInfo(id)).meta.status).toBe("running");
    const own = await http(dashboard.port, "POST", `/api/dags/${id}/pause`, { headers: { ...control(dashboard.token), Origin: `http://127.0.0.1:${dashboard.port}` }, body: {} });
    expect(own.status).toBe(200);
    expect(["pausing", "paused"]).toContain(own.json.status);
  });

  it("a POST without a JSON Content-Type is refused (415): a cross-site form cannot send one", async () => {
    const { dashboard } = env();
    const id = await blockedDag();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const got = await http(dashboard.port, "POST", `/api/dags/${id}/cancel`, { headers: { "X-Ebind-Token": dashboard.token, "Content-Type": type }, body: "{}" });
      expect(got.status, type).toBe(415);
    }
    const none = await http(dashboard.port, "POST", `/api/dags/${id}/cancel`, { headers: { "X-Ebind-Token": dashboard.token }, body: "{}" });
    expect(none.status).toBe(415);
    expect((await env().workflow.dagInfo(id)).meta.status).toBe("running");
  });

  it("a Host header that is not the bound address (DNS rebinding) is 403, for reads, the page and the event stream", async () => {
    const { dashboard } = env();
    for (const path of ["/", "/api/dags", "/api/events", "/assets/app.js"]) {
      const got = await http(dashboard.port, "GET", path, { headers: { Host: `evil.example:${dashboard.port}` } });
      expect(got.status, path).toBe(403);
    }
    expect((await http(dashboard.port, "GET", "/api/dags", { headers: { Host: `127.0.0.1:${dashboard.port + 1}` } })).status).toBe(403);
    // The loopback names of a loopback bind pass.
    expect((await http(dashboard.port, "GET", "/api/dags", { headers: { Host: `localhost:${dashboard.port}` } })).status).toBe(200);
  });

  it("bound to a non-loopback address, every request needs the token: the page, the assets, the API, the event stream", async () => {
    const { broker, workflow } = env();
    const ui = await env().another({ host: "0.0.0.0" });
    // Printed with the machine's name: the address is for other machines (127.0.0.1 was useless there).
    expect(ui.url).toBe(`http://${hostname()}:${ui.port}/?token=${encodeURIComponent(ui.token)}#token=${encodeURIComponent(ui.token)}`);
    for (const path of ["/", "/assets/app.js", "/vendor/dagre.min.js", "/api/dags", "/api/events", "/api/streams", "/api/dlq"]) {
      const got = await http(ui.port, "GET", path);
      expect(got.status, path).toBe(401);
      expect((await http(ui.port, "GET", `${path}${path.includes("?") ? "&" : "?"}token=wrong-token-wrong-token`)).status, path).toBe(401);
    }
    expect((await http(ui.port, "GET", "/api/dags", { headers: { "X-Ebind-Token": ui.token } })).status).toBe(200);
    const page = await http(ui.port, "GET", `/?token=${encodeURIComponent(ui.token)}`);
    expect(page.status).toBe(200);
    // The page's own asset links carry the token, since the browser fetches them without headers.
    expect(page.text).toContain(`/assets/app.js?token=${encodeURIComponent(ui.token)}`);
    // A token in the query never authorises a change: POSTs need the header.
    const id = (await workflow.listDags({ limit: 1 }))[0]?.meta.id ?? "x";
    const post = await http(ui.port, "POST", `/api/dags/${id}/cancel?token=${encodeURIComponent(ui.token)}`, { headers: { "Content-Type": "application/json" }, body: {} });
    expect(post.status).toBe(401);
    expect(broker.kind).toBe("nats");
  });

  it("a short token is refused at start", async () => {
    const { broker, workflow } = env();
    await expect(startDashboard({ broker, workflow, token: "short" })).rejects.toMatchObject({ code: "invalid_argument" });
  });

  it("every response carries the security headers, no CORS header, and nothing of the NATS connection", async () => {
    const { dashboard, natsUrl } = env();
    const port = new URL(natsUrl).port;
    for (const path of ["/", "/assets/app.js", "/api/dags", "/api/streams", "/api/dlq", "/api/nope"]) {
      const got = await http(dashboard.port, "GET", path);
      expect(got.headers["content-security-policy"], path).toMatch(/^default-src 'self';/);
      expect(got.headers["content-security-policy"], path).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(got.headers["x-frame-options"], path).toBe("DENY");
      expect(got.headers["referrer-policy"], path).toBe("no-referrer");
      expect(got.headers["access-control-allow-origin"], path).toBeUndefined();
      expect(got.text, path).not.toContain(natsUrl);
      expect(got.text, path).not.toContain(`:${port}`);
    }
    const preflight = await http(dashboard.port, "OPTIONS", "/api/dlq/purge", { headers: { Origin: "http://evil.example", "Access-Control-Request-Method": "POST" } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    // No inline script in the page: every script has a src (the CSP would block inline ones anyway).
    const page = await http(dashboard.port, "GET", "/");
    expect(page.text.match(/<script[^>]*>/g)?.every((tag) => tag.includes(" src="))).toBe(true);
  });
});
