/**
 * Runs an example's `main()` when its file is executed directly (`npx tsx examples/01-basic.ts`),
 * and not when a test imports it.
 */
import { pathToFileURL } from "node:url";

export function runIfMain(moduleUrl: string, main: () => Promise<unknown>): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
