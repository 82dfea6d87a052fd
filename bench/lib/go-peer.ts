/**
 * The Go system of bench/ (issue 15): `ebgo` (interop/go), a Go peer on nats.go speaking ebind's
 * wire format the way Go ebind's client and worker do (one synchronous publish per enqueue with the
 * task id as message id; a durable pull consumer, a semaphore of `concurrency` handlers, a response
 * publish then an ack). It stands in for Go ebind, which the Go module proxy does not serve here:
 * same protocol, same client library, none of Go ebind's own code.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { ebgoPath } from "../../test/support/go-build.js";
import { withTimeout } from "./harness.js";

type Line = Record<string, unknown> & { event: string };

/** A running ebgo process and the lines it printed. */
class GoProcess {
  readonly lines: Line[] = [];
  #wake: (() => void) | undefined;
  readonly exited: Promise<number | null>;

  constructor(readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on("line", (text) => {
      try {
        this.lines.push(JSON.parse(text) as Line);
      } catch {
        this.lines.push({ event: "non_json", text });
      }
      this.#wake?.();
    });
    proc.stderr!.on("data", (d: Buffer) => process.stderr.write(`[ebgo] ${d.toString()}`));
    this.exited = new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
  }

  /** The first line with this event (printed before or later). @throws when the process died first or printed an error. */
  async next(event: string, timeoutMs: number): Promise<Line> {
    return withTimeout(
      (async () => {
        for (;;) {
          const line = this.lines.find((l) => l.event === event);
          if (line) return line;
          const error = this.lines.find((l) => l.event === "error");
          if (error) throw new Error(`ebgo: ${String(error.error)}`);
          if (this.proc.exitCode !== null) throw new Error(`ebgo exited with ${this.proc.exitCode} before "${event}"`);
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
            setTimeout(resolve, 200).unref();
          });
        }
      })(),
      timeoutMs,
      `ebgo ${event}`,
    );
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) this.proc.kill("SIGTERM");
    await withTimeout(this.exited, 40_000, "ebgo exit");
  }
}

function start(args: string[]): GoProcess {
  return new GoProcess(spawn(ebgoPath(), args, { stdio: ["ignore", "pipe", "pipe"] }));
}

/** Creates the streams as Go's stream.EnsureStreams does. */
export async function goEnsureStreams(natsUrl: string): Promise<void> {
  const p = start(["streams", "ensure", "--url", natsUrl]);
  await p.next("ensured", 30_000);
  await p.exited;
}

/**
 * Starts a quiet Go worker (handler `bench.noop`, `concurrency` at once); resolves once it consumes.
 * With `target`, {@link GoWorker.done} resolves when that many tasks settled, with the ms since it
 * began consuming.
 */
export async function startGoWorker(natsUrl: string, concurrency: number, target?: number): Promise<GoWorker> {
  const args = ["worker", "--url", natsUrl, "--quiet", "--concurrency", String(concurrency)];
  if (target !== undefined) args.push("--target", String(target));
  const p = start(args);
  await p.next("ready", 30_000);
  return {
    done: async () => Number((await p.next("done", 180_000)).ms),
    stop: () => p.stop(),
  };
}

export interface GoWorker {
  /** ms from consuming to the target's last task settled. */
  done(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Runs `ebgo produce`: `n` tasks of `bench.noop` from `inflight` goroutines, fire-and-forget or each
 * awaited; resolves with the ms it measured from its first publish to the last publish (or answer).
 */
export async function goProduce(natsUrl: string, n: number, inflight: number, awaitEach: boolean): Promise<number> {
  const args = ["produce", "--url", natsUrl, "--n", String(n), "--inflight", String(inflight)];
  if (awaitEach) args.push("--await");
  const p = start(args);
  const line = await p.next("produced", 150_000);
  await p.exited;
  if (awaitEach && line.answered !== n) throw new Error(`ebgo produce: ${String(line.answered)} of ${n} answered`);
  return Number(line.ms);
}
