/**
 * One demo at a time per `--store-dir`. nats-server 2.9 does not lock its store directory: a second
 * server started on it while the first still runs would share its files. A demo that was killed
 * leaves its server running for a few seconds more (its watchdog stops it), so the next demo on the
 * same directory must wait for that server to go. The lock file `ebind-demo.lock` in the store
 * directory records the demo's pid and, once started, its server's address.
 * @module
 */
import { mkdir, open, readFile, unlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const LOCK_FILE = "ebind-demo.lock";
/** How long a dead demo's server may take to stop: watchdog poll (1 s) + SIGTERM grace (5 s) + slack. */
const SERVER_GONE_MS = 8_000;
/** A server closes its port before it has flushed its store: leave it this long more. */
const FLUSH_MS = 1_000;

interface LockContent {
  readonly pid: number;
  /** `host:port` of the demo's embedded server, once started. */
  readonly server?: string | undefined;
}

/** A held lock. */
export interface StoreLock {
  /** Records the address (`host:port`) of the server this demo started on the store. */
  setServer(server: string): Promise<void>;
  /** Removes the lock file. */
  release(): Promise<void>;
}

/** Thrown when another live demo holds the store. */
export class StoreBusyError extends Error {}

/**
 * Takes the lock of `storeDir` (created if needed). When its holder died, waits until that demo's
 * server no longer answers (at most ~8 s) and takes it over.
 * @throws StoreBusyError when a running process holds it.
 */
export async function lockStore(storeDir: string, say: (line: string) => void): Promise<StoreLock> {
  await mkdir(storeDir, { recursive: true });
  const path = join(storeDir, LOCK_FILE);
  const write = (content: LockContent): Promise<void> => writeFile(path, JSON.stringify(content));
  for (let tries = 0; ; tries++) {
    try {
      const file = await open(path, "wx");
      await file.writeFile(JSON.stringify({ pid: process.pid } satisfies LockContent));
      await file.close();
      return {
        setServer: (server) => write({ pid: process.pid, server }),
        release: () => unlink(path).catch(() => undefined),
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || tries >= 3) throw err;
    }
    const holder = await readLock(path);
    if (holder && alive(holder.pid)) throw new StoreBusyError(`${storeDir} is in use by another demo (pid ${holder.pid})`);
    if (holder) {
      say(`demo: the previous demo on this store (pid ${holder.pid}) died; waiting for its nats-server to stop`);
      await serverGone(holder.server);
    }
    await unlink(path).catch(() => undefined);
  }
}

async function readLock(path: string): Promise<LockContent | undefined> {
  try {
    const content = JSON.parse(await readFile(path, "utf8")) as LockContent;
    return Number.isInteger(content.pid) ? content : undefined;
  } catch {
    return undefined; // gone meanwhile, or cut short by a kill: nothing to wait for
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Waits until nothing answers at `server`, and then a second; without an address, the longest a server may take. */
async function serverGone(server: string | undefined): Promise<void> {
  const at = server ? /^(.*):(\d+)$/.exec(server) : null;
  if (!at) return void (await sleep(SERVER_GONE_MS));
  const deadline = Date.now() + SERVER_GONE_MS;
  while (Date.now() < deadline && (await answers(at[1]!, Number(at[2])))) await sleep(100);
  await sleep(FLUSH_MS);
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
