/** Credentials in server URLs (issue 13, found by a new user): used as the nats CLI does, never shown. */
import { expect, it } from "vitest";
import { redactServers, splitUrlCredentials } from "../../../src/nats/connect.js";

it("user:pass@ and token@ are split out of the URLs; the first URL carrying some wins; percent-escapes decoded", () => {
  expect(splitUrlCredentials(["nats://a:b%40c@h1:4222", "nats://x:y@h2:4222", "nats://h3:4222"])).toEqual({
    servers: ["nats://h1:4222", "nats://h2:4222", "nats://h3:4222"],
    credentials: { user: "a", pass: "b@c" },
  });
  expect(splitUrlCredentials(["tls://s3cret@h:4222"])).toEqual({ servers: ["tls://h:4222"], credentials: { token: "s3cret" } });
  expect(splitUrlCredentials(["nats://h:4222"])).toEqual({ servers: ["nats://h:4222"], credentials: {} });
});

it("messages show the user but never the password or token", () => {
  expect(redactServers(["nats://a:b@h1:4222", "nats://tok@h2:4222", "nats://h3:4222"])).toBe("nats://a:***@h1:4222,nats://***@h2:4222,nats://h3:4222");
});

it("a missing credentials or nkey file is an invalid_argument naming the file (a new user got a bare ENOENT)", async () => {
  const { connectNats } = await import("../../../src/nats/connect.js");
  await expect(connectNats({ servers: "nats://127.0.0.1:1", credsFile: "/nonexistent/u.creds" })).rejects.toMatchObject({
    code: "invalid_argument",
    message: expect.stringMatching(/^connectNats: credentials file \/nonexistent\/u\.creds: ENOENT/) as string,
  });
  await expect(connectNats({ servers: "nats://127.0.0.1:1", nkeyFile: "/nonexistent/u.nk" })).rejects.toMatchObject({
    code: "invalid_argument",
    message: expect.stringMatching(/^connectNats: nkey file \/nonexistent\/u\.nk: ENOENT/) as string,
  });
});
