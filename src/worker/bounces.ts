/**
 * Saying, without flooding the log, why a worker hands tasks back instead of running them: a task
 * whose handler it lacks waits, going round the workers, until one that has the handler takes it
 * (issue 12; ebind for Go dead-letters it as `unknown_handler` at once, reference §3.2). One warning
 * per reason per minute, with how many tasks it covered.
 * @module
 */
import type { Clock } from "../broker/clock.js";
import { taskFields, type Logger } from "../broker/logger.js";
import type { Task } from "../task/envelope.js";

/** How often one reason is logged again. */
const REPEAT_MS = 60_000;

/** Rate-limited reports of hand-backs. */
export class Bounces {
  readonly #last = new Map<string, { at: number; since: number }>();

  constructor(
    private readonly workerId: string,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** Notes one task handed back for `why`, logging a warning when this reason was not logged for a minute. */
  note(task: Task, why: string): void {
    const now = this.clock.now();
    const seen = this.#last.get(why);
    if (seen && now - seen.at < REPEAT_MS) {
      seen.since++;
      return;
    }
    this.#last.set(why, { at: now, since: 0 });
    if (this.#last.size > 1000) this.#last.clear();
    this.logger.warn(
      taskFields(task, { handed_back_since_last_report: seen?.since ?? 0 }),
      `worker ${this.workerId}: ${why}; handing task ${task.id} back to the queue (it spends no attempt and waits for a worker that can run it, or its deadline)`,
    );
  }
}
