// Embedded servers stop with their parent: on SIGTERM (signal re-raised, not swallowed) and, via the
// watchdog, when the parent is SIGKILLed. Reference: DESIGN.md §5 ("stops it with the parent").
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { describeNats, pidAlive } from "../../support/nats.js";

const fixture = fileURLToPath(new URL("./fixtures/hold-node.ts", import.meta.url));
const gracefulFixture = fileURLToPath(new URL("./fixtures/graceful-node.ts", import.meta.url));
const leaked = new Set<number>();

afterAll(() => {
  for (const pid of leaked) {
    if (pidAlive(pid)) process.kill(pid, "SIGKILL");
  }
});

interface Parent {
  parentPid: number;
  serverPid: number;
  storeDir: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Lines the parent printed after its first. */
  lines: string[];
}

async function startParent(script = fixture, ownGroup = false): Promise<Parent> {
  const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"], detached: ownGroup });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout });
  const line = await new Promise<string>((resolve, reject) => {
    rl.once("line", (first) => {
      rl.on("line", (l) => lines.push(l));
      resolve(first);
    });
    void exited.then((e) => reject(new Error(`fixture exited early: ${JSON.stringify(e)}`)));
  });
  const [pid, storeDir] = line.split(" ");
  leaked.add(Number(pid));
  return { parentPid: child.pid!, serverPid: Number(pid), storeDir: storeDir!, exited, lines };
}

async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !pidAlive(pid);
}

describeNats("embed: servers stop with their parent", () => {
  it("SIGTERM to the parent kills the server, removes its temp dir, and still terminates the parent", async () => {
    const p = await startParent();
    expect(pidAlive(p.serverPid)).toBe(true);
    process.kill(p.parentPid, "SIGTERM");
    expect(await p.exited).toEqual({ code: null, signal: "SIGTERM" });
    expect(await gone(p.serverPid, 3000)).toBe(true);
    expect(existsSync(p.storeDir)).toBe(false);
  });

  it("Ctrl-C (SIGINT to the process group) with the application's own SIGINT handler: the server keeps serving its graceful shutdown", async () => {
    const p = await startParent(gracefulFixture, true);
    process.kill(-p.parentPid, "SIGINT"); // what a terminal does: the whole foreground group
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.lines).toEqual(["clean"]);
    expect(await gone(p.serverPid, 3000)).toBe(true);
    expect(existsSync(p.storeDir)).toBe(false);
  });

  it("SIGKILL of the parent: the watchdog stops the server and removes its temp dir", async () => {
    const p = await startParent();
    process.kill(p.parentPid, "SIGKILL");
    await p.exited;
    expect(await gone(p.serverPid, 8000)).toBe(true);
    const deadline = Date.now() + 3000;
    while (existsSync(p.storeDir) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(p.storeDir)).toBe(false);
  });
});
