/**
 * The dashboard page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
 * acting as a user: click, then wait for what a user would see. Screenshots go to
 * test-artifacts/ui/. Without chromium the suite is skipped, saying so; with EBIND_REQUIRE_NATS=1
 * its absence is a failure (CI installs it).
 */
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeNats, natsRequired } from "../../support/nats.js";
import { add, double, echo, flaky, sometimes, useUiEnv } from "./env.js";

const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const ARTIFACTS = resolve("test-artifacts/ui");

function describeBrowser(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM)) return describeNats(name, fn);
  if (natsRequired()) {
    describe(name, () => {
      it("requires chromium", () => {
        throw new Error(`chromium is required (EBIND_REQUIRE_NATS=1) but ${CHROMIUM} is missing: apt-get install -y chromium`);
      });
    });
    return;
  }
  process.stderr.write(`!!! chromium not found at ${CHROMIUM}: SKIPPING browser suite "${name}"\n`);
  describe.skip(name, fn);
}

describeBrowser("dashboard page in Chromium", () => {
  const env = useUiEnv();
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** A fresh page at `url`, counting navigations after the first load (a reload would add one). */
  async function open(url: string): Promise<{ page: Page; navigations: () => number }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    let count = 0;
    page.on("framenavigated", (f) => {
      if (f === page.mainFrame()) count++;
    });
    await page.goto(url);
    await page.locator("#live.on").waitFor();
    return { page, navigations: () => count };
  }

  const node = (page: Page, step: string) => page.locator(`#graph g.node[data-step="${step}"]`);

  it("a running DAG's graph turns done live: a step blocked by a breakpoint is released from the page, then its nodes turn done without reload", async () => {
    const { workflow, dashboard } = env();
    const dag = workflow.dag({ labels: ["page-demo"] });
    const sum = dag.step("sum", add, 20, 1);
    const doubled = dag.step("double", double, sum.ref()).breakBefore("inspect");
    dag.step("again", double, doubled.ref());
    dag.step("side", echo, "side").after(sum);
    await workflow.submit(dag, { breakpoints: ["inspect"] });

    const { page, navigations } = await open(dashboard.url);
    await page.locator(`#dag-table tr[data-dag="${dag.id}"]`).click();
    await expect.poll(() => node(page, "sum").getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    expect(await node(page, "double").getAttribute("data-status")).toBe("pending");
    await page.getByRole("button", { name: "Continue inspect" }).waitFor();
    await node(page, "sum").click();
    await page.locator("#step-fields").getByText("ui.add").waitFor();
    await expect.poll(() => page.locator("#step-fields").textContent()).toContain("21");
    await page.screenshot({ path: `${ARTIFACTS}/breakpoint-blocked.png` });
    const before = navigations();

    await page.getByRole("button", { name: "Continue inspect" }).click();
    for (const step of ["double", "again"]) {
      await expect.poll(() => node(page, step).getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    }
    await expect.poll(() => page.locator("#dag-status").textContent(), { timeout: 10_000 }).toBe("done");
    // The list row and the breakpoint list follow, from the same events.
    await page.locator(`#dag-table tr[data-dag="${dag.id}"]`).getByText("done").waitFor({ timeout: 10_000 });
    await page.locator("#breakpoints").getByText(/released/).waitFor({ timeout: 10_000 });
    expect(navigations()).toBe(before);
    expect(await workflow.awaitById(dag.id, "again", { timeoutMs: 5_000 })).toBe(84);
    await page.screenshot({ path: `${ARTIFACTS}/dag-done.png` });
    await page.context().close();
  });

  it("a signal is sent by clicking: bad JSON is refused with a message and nothing sent; good JSON releases the waiting step", async () => {
    const { workflow, dashboard } = env();
    const dag = workflow.dag();
    dag.step("approve", echo, "approved").waitForSignal("approval");
    await workflow.submit(dag);
    const { page } = await open(dashboard.url);
    await page.locator(`#dag-table tr[data-dag="${dag.id}"]`).click();
    await page.locator("#signals").getByText("awaited by approve").waitFor();

    await page.getByLabel("Name").fill("approval");
    await page.getByLabel("Payload (JSON)").fill("{approved: yes");
    await page.getByRole("button", { name: "Send signal" }).click();
    await page.locator("#notice.error").getByText(/not valid JSON/).waitFor();
    expect(await workflow.listSignals(dag.id)).toEqual([{ name: "approval", delivered: false, waiting: ["approve"] }]);

    await page.getByLabel("Payload (JSON)").fill('{"approved": true}');
    await page.getByRole("button", { name: "Send signal" }).click();
    await expect.poll(() => node(page, "approve").getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    await page.locator("#signals").getByText(/approval: delivered/).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/signal-sent.png` });
    await page.context().close();
  });

  it("a DLQ entry appears live, is requeued by clicking, and its task then runs", async () => {
    const { workflow, dashboard, broker } = env();
    await broker.purgeStream("EBIND_DLQ");
    const { page } = await open(dashboard.url);
    await page.getByRole("button", { name: /Dead letters/ }).click();
    flaky.failing = true;
    const dag = workflow.dag();
    dag.step("s", sometimes, "page");
    await workflow.submit(dag);
    await expect(workflow.awaitDag(dag.id, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: "dag_failed" });
    const row = page.locator("#dlq-table tbody tr").filter({ hasText: dag.id });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain("boom: failing page");
    await page.screenshot({ path: `${ARTIFACTS}/dlq.png` });

    flaky.failing = false;
    await row.getByRole("button", { name: "Requeue" }).click();
    await row.waitFor({ state: "detached", timeout: 10_000 });
    expect(await workflow.awaitById(dag.id, "s", { timeoutMs: 10_000 })).toBe("ok:page");

    await page.getByRole("button", { name: "Streams" }).click();
    const tasks = page.locator("#stream-table tr.stream").filter({ hasText: "EBIND_TASKS" });
    await tasks.waitFor();
    expect(await page.locator("#stream-table tr.consumer").count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}/streams.png` });
    await page.context().close();
  });

  it("a page opened without the token can read, but its controls are refused and change nothing", async () => {
    const { workflow, dashboard } = env();
    const dag = workflow.dag();
    dag.step("held", echo, 1).breakBefore("hold");
    await workflow.submit(dag, { breakpoints: ["hold"] });
    const { page } = await open(dashboard.url.replace(/#.*$/, ""));
    await page.locator(`#dag-table tr[data-dag="${dag.id}"]`).click();
    await page.getByRole("button", { name: "Pause" }).click();
    await page.locator("#notice.error").getByText(/missing or wrong X-Ebind-Token/).waitFor();
    expect((await workflow.dagInfo(dag.id)).meta.status).toBe("running");
    await page.context().close();
    await workflow.cancel(dag.id);
  });
});
