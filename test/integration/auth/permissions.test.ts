/**
 * Issue 16, permissions: users allowed only the subjects of their role — the README's "Auth, TLS and
 * permissions" role blocks, put verbatim into the server's configuration (test/support/permissions.ts) — run a deployment whose streams and buckets an
 * administrator created first (`ebctl stream ensure`): a producer enqueues and submits a DAG, a
 * worker runs the tasks and steps (its heartbeat thread connects as the same user), a scheduler
 * advances the DAG, and ebctl as the administrator lists and requeues a dead letter. The server
 * logs no permissions violation, so the lists suffice; a producer cannot consume tasks and a worker
 * cannot enqueue, each failing with an error that names the violation instead of hanging.
 */
import { expect, it } from "vitest";
import { silentLogger } from "../../../src/broker/index.js";
import { Client } from "../../../src/client/index.js";
import type { NatsHeartbeats } from "../../../src/nats/heartbeats.js";
import { connectNats, type NatsBroker, type NatsConnectOptions } from "../../../src/nats/index.js";
import { EbindError } from "../../../src/task/index.js";
import { Worker } from "../../../src/worker/index.js";
import { ensureTopology, Workflow } from "../../../src/workflow/index.js";
import { useAuthServer, type PasswordUser, type SubjectPermissions } from "../../support/auth-servers.js";
import { describeNats } from "../../support/nats.js";
import { readmeRoles, readmeRolesConfig } from "../../support/permissions.js";
import { recordingLogger } from "../../support/logger.js";
import { ebctl } from "../cli/support.js";
import { add, broken, double, scenarioRegistry, until } from "./scenario.js";

// The README's role blocks, verbatim: the users refer to them as the README's example does.
const USERS: PasswordUser[] = [
  { user: "admin", password: "admin-pw" },
  { user: "producer", password: "producer-pw", permissions: "$PRODUCER" },
  { user: "worker", password: "worker-pw", permissions: "$WORKER" },
  { user: "scheduler", password: "scheduler-pw", permissions: "$SCHEDULER" },
  { user: "nopull", password: "nopull-pw", permissions: withoutPulls() },
];

/** The README's worker without the right to pull (`$JS.API.CONSUMER.MSG.NEXT…`): a misconfigured worker. */
function withoutPulls(): SubjectPermissions {
  const worker = readmeRoles().find((r) => r.name === "WORKER")!.permissions;
  return { publish: worker.publish.filter((x) => !x.startsWith("$JS.API.CONSUMER.MSG.NEXT.")), subscribe: worker.subscribe };
}

/** The README's roles as JWT users (`producer`, `worker`, `scheduler`): the same lists in each user's JWT. */
function jwtUsers(): Array<{ name: string; permissions: SubjectPermissions }> {
  return [...readmeRoles().map((r) => ({ name: r.name.toLowerCase(), permissions: r.permissions })), { name: "nopull", permissions: withoutPulls() }];
}

const MODES = { user: "user/password, the README's configuration", jwt: "JWT users with the README's lists" } as const;

for (const mode of ["user", "jwt"] as const) {
  describeNats(`permissions per role (${MODES[mode]})`, () => {
    const log: string[] = [];
    const server = useAuthServer(
      mode,
      mode === "user" ? { users: USERS, authorizationPrelude: readmeRolesConfig(), logger: (line) => log.push(line) } : { jwtUsers: jwtUsers(), logger: (line) => log.push(line) },
    );
    /** Connect options of a role's user; `admin` is the user without limits. */
    const as = (user: string): NatsConnectOptions => {
      const s = server();
      if (mode === "jwt") return { servers: s.url, name: user, credsFile: user === "admin" ? s.connect.credsFile : s.credsFiles[user], timeoutMs: 5000 };
      const u = USERS.find((x) => x.user === user)!;
      return { servers: s.url, name: user, user: u.user, pass: u.password, timeoutMs: 5000 };
    };
    const adminFlags = (): string[] => ["-s", server().url, ...server().ebctlArgs];
    const violations = (): string[] => log.filter((l) => /violation/i.test(l));

    it("the README defines the three roles, each with allow lists", () => {
      const roles = readmeRoles();
      expect(roles.map((r) => r.name)).toEqual(["PRODUCER", "WORKER", "SCHEDULER"]);
      for (const r of roles) {
        expect(r.permissions.publish, r.name).toContain("$JS.API.INFO");
        expect(r.permissions.subscribe, r.name).toContain("_INBOX.>");
      }
    });

    it("the administrator ensures the topology; producer, worker and scheduler then run tasks, dead letters and a DAG with only their subjects", async () => {
      const ensured = await ebctl(["stream", "ensure", ...adminFlags(), "-o", "json"]);
      expect(ensured.stderr).toBe("");
      expect(ensured.stdout).toContain("KV_ebind-leader");

      const opened: NatsBroker[] = [];
      const closers: Array<() => Promise<unknown> | void> = [];
      const open = async (user: string): Promise<NatsBroker> => {
        const b = await connectNats(as(user));
        opened.push(b);
        return b;
      };
      try {
        const workerBroker = await open("worker");
        const hb = workerBroker.startHeartbeats({ everyMs: 1000, logger: silentLogger }) as NatsHeartbeats | undefined;
        closers.push(() => hb?.close());
        expect(await hb!.ready).toBe(true);
        const workerWorkflow = await Workflow.create(workerBroker, { logger: silentLogger });
        closers.push(() => workerWorkflow.close());
        const worker = await Worker.start(workerBroker, scenarioRegistry(), { logger: silentLogger, pullExpiresMs: 1000, stepHook: workerWorkflow.stepHook, middleware: [workerWorkflow.middleware] });
        closers.push(() => worker.close());

        const schedulerBroker = await open("scheduler");
        const schedulerWorkflow = await Workflow.create(schedulerBroker, { logger: silentLogger });
        closers.push(() => schedulerWorkflow.close());
        const scheduler = await schedulerWorkflow.startScheduler({ pullExpiresMs: 1000 }); // the KV leader election, as deployed
        closers.push(() => scheduler.stop());

        const producerBroker = await open("producer");
        const client = await Client.create(producerBroker, { logger: silentLogger });
        closers.push(() => client.close());
        expect(await (await client.enqueue(double, 4)).result({ timeoutMs: 10_000 })).toBe(8);
        const failing = await client.enqueueWith(broken, { retryPolicy: { maximumAttempts: 1 } });
        await expect(failing.result({ timeoutMs: 10_000 })).rejects.toThrow("broken for good");

        const producerWorkflow = await Workflow.create(producerBroker, { logger: silentLogger });
        closers.push(() => producerWorkflow.close());
        const dag = producerWorkflow.dag();
        const a = dag.step("a", double, 3);
        const b = dag.step("b", add, a.ref(), 4);
        await producerWorkflow.submit(dag);
        expect(await producerWorkflow.await(b, { timeoutMs: 15_000 })).toBe(10);
        expect((await producerWorkflow.awaitDag(dag.id, { timeoutMs: 10_000 })).status).toBe("done");

        // The administrator's tools: ebctl reads the DLQ and the DAG, and requeues the dead letter.
        let seq = 0;
        await until(async () => {
          const ls = await ebctl(["dlq", "ls", ...adminFlags(), "-o", "json"]);
          const rows = JSON.parse(ls.stdout || "[]") as Array<{ seq?: number; Seq?: number; task_id?: string; id?: string }>;
          const row = rows.find((r) => JSON.stringify(r).includes(failing.id));
          seq = row?.seq ?? row?.Seq ?? 0;
          return seq > 0;
        }, "the dead letter in ebctl dlq ls");
        const requeue = await ebctl(["dlq", "requeue", String(seq), "--yes", ...adminFlags()]);
        expect(requeue).toMatchObject({ code: 0, stderr: "" });
        const shown = await ebctl(["dag", "get", dag.id, ...adminFlags(), "-o", "json"]);
        expect((JSON.parse(shown.stdout) as { Meta: { status: string } }).Meta.status).toBe("done");
        // The requeued task fails again (it is broken for good) and comes back to the DLQ, through the worker.
        await until(async () => (await ebctl(["dlq", "ls", ...adminFlags(), "-o", "json"])).stdout.includes(failing.id), "the task dead-lettered again");
      } finally {
        for (const c of closers.reverse()) await c();
        for (const b of opened) await b.close();
      }
      expect(violations()).toEqual([]);
    });

    it("a producer cannot consume tasks, and a worker cannot enqueue: a permissions error naming the subject, not a hang", async () => {
      const producer = await connectNats(as("producer"));
      try {
        const err = await Worker.start(producer, scenarioRegistry(), { logger: silentLogger, pullExpiresMs: 1000 }).then(
          async (w) => {
            await w.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(EbindError);
        expect((err as Error).message).toMatch(/Permissions Violation for Publish to "\$JS\.API\.[A-Z.]+\.(EBIND_TASKS|KV_ebind-task-pauses|KV_ebind-clock)/);
      } finally {
        await producer.close();
      }
      const worker = await connectNats(as("worker"));
      try {
        const err = await Client.create(worker, { logger: silentLogger }).then(
          async (c) => {
            await c.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(EbindError);
        expect((err as Error).message).toMatch(/Permissions Violation for Publish to "\$JS\.API\.[A-Z.]+\.EBIND_RESP/);
      } finally {
        await worker.close();
      }
      expect(violations().length).toBeGreaterThan(0); // the server saw them too
    });

    it("a worker whose user may not pull says so in its log, with the subject, and is not ready (a refused pull is not an empty one)", async () => {
      const admin = await connectNats(as("admin"));
      await ensureTopology(admin); // as the administrator's step does (the other tests may not have run)
      await admin.close();
      const broker = await connectNats(as("nopull"));
      const logger = recordingLogger();
      const worker = await Worker.start(broker, scenarioRegistry(), { logger, pullExpiresMs: 1000 });
      try {
        const refused = (): boolean => logger.lines.some(([level, m, f]) => level === "warn" && m.includes("pull failed") && String(f?.error).includes('Permissions Violation for Publish to "$JS.API.CONSUMER.MSG.NEXT.EBIND_TASKS.ebind-worker"'));
        await until(refused, "the worker to log the refused pull");
        await until(() => !worker.ready, "the worker to say it is not ready");
      } finally {
        await worker.close();
        await broker.close();
      }
    });
  });
}
