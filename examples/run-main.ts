/**
 * The two conventions of every example's `main(out)`: it records each line it prints
 * ({@link recorder}) and returns them, for the tests in `test/integration/examples/`; and it runs
 * when its file is executed directly (`npx tsx examples/01-basic.ts`), not when a test imports it
 * ({@link runIfMain}).
 * @module
 */
import { pathToFileURL } from "node:url";

/** The lines an example printed, and the function it prints with. */
export interface Recorder {
  /** Every line given to {@link say}, in order: what `main()` returns. */
  readonly lines: string[];
  /** Prints a line: keeps it in {@link lines} and passes it to `out`. */
  readonly say: (line: string) => void;
}

/** A {@link Recorder} passing each line on to `out` (`console.log` when run from the command line). */
export function recorder(out: (line: string) => void): Recorder {
  const lines: string[] = [];
  const say = (line: string): void => {
    lines.push(line);
    out(line);
  };
  return { lines, say };
}

/** Calls `main` when the file of `moduleUrl` is the program being run; sets the exit code when it fails. */
export function runIfMain(moduleUrl: string, main: () => Promise<unknown>): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
