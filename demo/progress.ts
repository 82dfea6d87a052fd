/**
 * The demo's progress line: polls the DAG (`workflow.dagInfo`) every 500 ms and shows on stderr the
 * steps done out of the steps known, and the files hashed out of the files scanned. On a TTY the
 * line is rewritten in place; otherwise a line is written each time another tenth is done. The
 * poller also notices a stall: no step finishing for a long time means the system is stuck.
 * @module
 */
import type { StepRecord, Workflow } from "../src/workflow/index.js";
import { isHashStep } from "./handlers.js";

/** The system is stuck: no step finished for a long time. */
export class StallError extends Error {}

/** Options of {@link DagWatch}. */
export interface DagWatchOptions {
  /** @default process.stderr */
  readonly stream?: NodeJS.WriteStream | undefined;
  /** @default 500 */
  readonly intervalMs?: number | undefined;
  /** No step finished for this long → {@link DagWatch.stalled} rejects. @default 300000 */
  readonly stallMs?: number | undefined;
}

/** Watches one DAG until stopped. */
export class DagWatch {
  /** Rejects when no step has finished for `stallMs` (never resolves). */
  readonly stalled: Promise<never>;
  readonly #stream: NodeJS.WriteStream;
  readonly #intervalMs: number;
  readonly #stallMs: number;
  readonly #filesOf = new Map<string, number>();
  readonly #started = performance.now();
  #stall: (err: Error) => void = () => undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #line = "";
  #drawn = "";
  /** The line without its rate: what must change for the final line to be worth drawing again. */
  #key = "";
  #drawnKey = "";
  #lastTenth = -1;
  #done = -1;
  #lastChange = performance.now();
  #hashedAtStart: number | undefined;
  #running = false;

  constructor(
    private readonly workflow: Workflow,
    private readonly dagId: string,
    options: DagWatchOptions = {},
  ) {
    this.#stream = options.stream ?? process.stderr;
    this.#intervalMs = options.intervalMs ?? 500;
    this.#stallMs = options.stallMs ?? 300_000;
    this.stalled = new Promise<never>((_, reject) => (this.#stall = reject));
    this.stalled.catch(() => undefined); // observed by whoever races it
  }

  /** Starts polling. */
  start(): void {
    this.#running = true;
    const tick = (): void => {
      this.#polling = this.#poll().finally(() => {
        if (this.#polling !== undefined) this.#timer = setTimeout(tick, this.#intervalMs);
      });
    };
    tick();
  }

  /** Polls once more, draws the final line, and stops; idempotent, and a no-op when not started. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    const last = this.#polling;
    this.#polling = undefined;
    clearTimeout(this.#timer);
    await last;
    await this.#poll();
    if (this.#key !== this.#drawnKey) this.#draw();
    if (this.#stream.isTTY && this.#drawn !== "") this.#stream.write("\n");
  }

  /** Writes `line` (without its newline) on the stream, keeping the progress line readable. */
  log(line: string): void {
    this.#stream.write(this.#stream.isTTY ? `\r\u001b[K${line}\n${this.#drawn}` : `${line}\n`);
  }

  async #poll(): Promise<void> {
    let steps: StepRecord[];
    try {
      steps = (await this.workflow.dagInfo(this.dagId)).steps;
    } catch {
      return this.#checkStall(); // a failed read is retried at the next tick
    }
    let done = 0;
    let files = 0;
    let hashed = 0;
    for (const step of steps) {
      if (step.status === "done") done++;
      if (!isHashStep(step.stepId)) continue;
      const n = this.#files(step);
      files += n;
      if (step.status === "done") hashed += n;
    }
    if (done !== this.#done) {
      this.#done = done;
      this.#lastChange = performance.now();
    }
    this.#hashedAtStart ??= hashed;
    const secs = (performance.now() - this.#started) / 1000;
    const rate = secs > 0 ? Math.round((hashed - this.#hashedAtStart) / secs) : 0;
    const pct = files === 0 ? 0 : Math.floor((hashed * 100) / files);
    this.#key = files === 0 ? `progress: ${done}/${steps.length} steps done, scanning` : `progress: ${done}/${steps.length} steps done, ${hashed}/${files} files hashed (${pct}%)`;
    this.#line = files === 0 ? this.#key : `${this.#key}, ${rate} files/s`;
    const tenth = files === 0 ? -1 : Math.floor(pct / 10);
    if (this.#stream.isTTY || tenth !== this.#lastTenth) this.#draw();
    this.#lastTenth = tenth;
    this.#checkStall(done < steps.length);
  }

  #checkStall(running = true): void {
    const quiet = performance.now() - this.#lastChange;
    if (running && quiet > this.#stallMs) this.#stall(new StallError(`no step of DAG ${this.dagId} finished for ${Math.round(quiet / 1000)} s`));
  }

  /** Files of a hash step: the length of its one argument, read once. */
  #files(step: StepRecord): number {
    let n = this.#filesOf.get(step.stepId);
    if (n === undefined) {
      const [paths] = JSON.parse(step.argsJson) as unknown[];
      n = Array.isArray(paths) ? paths.length : 0;
      this.#filesOf.set(step.stepId, n);
    }
    return n;
  }

  #draw(): void {
    this.#drawn = this.#line;
    this.#drawnKey = this.#key;
    this.#stream.write(this.#stream.isTTY ? `\r${this.#line}\u001b[K` : `${this.#line}\n`);
  }
}
