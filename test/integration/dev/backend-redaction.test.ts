/**
 * openDevBackend reports which backend it chose; a NATS_URL carrying credentials is shown with the
 * password as `***`, as every other message shows it (found by a new user: it printed the password).
 */
import { expect, it } from "vitest";
import { openDevBackend } from "../../../src/dev/backend.js";
import { useAuthServer } from "../../support/auth-servers.js";
import { describeNats } from "../../support/nats.js";

describeNats("dev backend: credentials in NATS_URL", () => {
  const server = useAuthServer("user");

  it("connects with them and reports the URL with the password redacted", async () => {
    const { user, pass } = server().connect;
    const url = server().url.replace("nats://", `nats://${user}:${pass}@`);
    const lines: string[] = [];
    const backend = await openDevBackend({ url, report: (line) => lines.push(line) });
    try {
      expect(backend.kind).toBe("nats");
      expect(lines).toEqual([`ebind: backend: NATS at ${server().url.replace("nats://", `nats://${user}:***@`)}`]);
      expect(lines.join("\n")).not.toContain(String(pass));
    } finally {
      await backend.close();
    }
  });
});
