/**
 * Child processes stop with their parent.
 *
 * Every spawned `nats-server` is registered here. While any is alive, listeners on `process`
 * `"exit"` (SIGKILL each child synchronously and remove owned temporary directories), `SIGINT` and
 * `SIGTERM` (same clean-up, then the signal's default behaviour: the listener removes itself and
 * re-raises the signal when no other listener remains) are installed; they are removed again when
 * the last child is gone. When the application listens for the signal itself, the signal is left to
 * it: its graceful shutdown may still need the server, and the `"exit"` listener cleans up after it.
 * Servers run in their own process group, so a terminal's Ctrl-C reaches the application only.
 *
 * A parent killed by SIGKILL runs no handler, so each child also gets a watchdog: a tiny `sh` loop,
 * detached and unreferenced, that polls the parent pid once a second with `kill -0`; when the
 * parent is gone it sends SIGTERM to the server, waits up to 5 s, then SIGKILL, and removes the
 * owned temporary directories. The watchdog ends by
 * itself when the server exits and is killed by us when the server exits normally. Where `/bin/sh`
 * is missing (Windows) there is no watchdog: a SIGKILLed parent then leaves the server running.
 *
 * Reference: DESIGN.md §5 ("stops it with the parent").
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";

interface Tracked {
  readonly child: ChildProcess;
  /** Directories removed when the parent exits while the child still runs. */
  readonly ownedDirs: readonly string[];
  watchdog: ChildProcess | undefined;
}

const live = new Map<ChildProcess, Tracked>();
let installed = false;

const WATCHDOG = [
  'p="$1"; c="$2"',
  'while kill -0 "$c" 2>/dev/null; do',
  '  if ! kill -0 "$p" 2>/dev/null; then',
  '    kill -TERM "$c" 2>/dev/null; i=0',
  '    while [ "$i" -lt 50 ] && kill -0 "$c" 2>/dev/null; do sleep 0.1; i=$((i+1)); done',
  '    kill -0 "$c" 2>/dev/null && kill -KILL "$c" 2>/dev/null',
  '    sleep 0.2; shift 2; [ "$#" -gt 0 ] && rm -rf -- "$@"',
  "    exit 0",
  "  fi",
  "  sleep 1",
  "done",
].join("\n");

function killAllSync(): void {
  for (const t of live.values()) {
    try {
      t.child.kill("SIGKILL");
    } catch {
      // already gone
    }
    try {
      t.watchdog?.kill("SIGKILL");
    } catch {
      // already gone
    }
    for (const dir of t.ownedDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort at exit
      }
    }
  }
  live.clear();
}

function onExit(): void {
  killAllSync();
}

function onSignal(signal: NodeJS.Signals): void {
  // The application handles the signal itself (a graceful shutdown that may still need the
  // server): leave the children to it; the "exit" listener kills what it leaves behind.
  if (process.listeners(signal).some((l) => l !== onSigint && l !== onSigterm)) return;
  killAllSync();
  uninstall();
  // Do not swallow the signal: with no other listener, re-raise it so the default action runs.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

const onSigint = (): void => onSignal("SIGINT");
const onSigterm = (): void => onSignal("SIGTERM");

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", onExit);
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off("exit", onExit);
  process.off("SIGINT", onSigint);
  process.off("SIGTERM", onSigterm);
}

/**
 * Registers a freshly spawned child: it is killed (and `ownedDirs` removed) if the parent exits or
 * receives SIGINT/SIGTERM first, and a watchdog kills it if the parent is SIGKILLed. Unregistered
 * automatically when the child exits.
 *
 * @param child a spawned process with a pid.
 * @param ownedDirs temporary directories to remove if the parent dies while the child runs.
 */
export function trackChild(child: ChildProcess, ownedDirs: readonly string[] = []): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const tracked: Tracked = { child, ownedDirs, watchdog: startWatchdog(child.pid, ownedDirs) };
  live.set(child, tracked);
  install();
  child.once("exit", () => {
    try {
      tracked.watchdog?.kill("SIGKILL");
    } catch {
      // already gone
    }
    live.delete(child);
    if (live.size === 0) uninstall();
  });
}

/** The pids of all registered children that are still running (for leak checks in tests). */
export function liveChildPids(): number[] {
  return [...live.keys()].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
}

function startWatchdog(childPid: number, ownedDirs: readonly string[]): ChildProcess | undefined {
  if (process.platform === "win32" || !existsSync("/bin/sh")) return undefined;
  try {
    const dog = spawn("/bin/sh", ["-c", WATCHDOG, "ebind-embed-watchdog", String(process.pid), String(childPid), ...ownedDirs], {
      detached: true,
      stdio: "ignore",
    });
    dog.on("error", () => undefined);
    dog.unref();
    return dog;
  } catch {
    return undefined;
  }
}
