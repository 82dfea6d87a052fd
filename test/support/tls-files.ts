/**
 * A throw-away certificate authority for TLS tests, made with the `openssl` command in a temporary
 * folder: a CA, a server certificate for `127.0.0.1`/`localhost` (IP and DNS subject alternative
 * names), a client certificate (for mutual TLS), and a second, unrelated CA with its own client
 * certificate (for "wrong CA" cases). EC P-256 keys, valid for one day.
 *
 * `openssl` is not a Node package: CI must install it (Debian: `apt-get install openssl`).
 * {@link describeTls} fails loudly when it is missing and `EBIND_REQUIRE_NATS=1`, and skips with a
 * warning otherwise.
 * @module
 */
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "vitest";
import { describeNats, natsRequired } from "./nats.js";

/** Paths of the PEM files {@link makeTlsFiles} wrote. */
export interface TlsFiles {
  /** The CA that signed the server and client certificates. */
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate (extended key usage clientAuth) signed by {@link ca}. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed nothing the server trusts. */
  readonly otherCa: string;
  /** A client certificate signed by {@link otherCa}: refused by a server that verifies clients. */
  readonly otherClientCert: string;
  readonly otherClientKey: string;
}

/** Whether an `openssl` command runs. */
export function opensslAvailable(): boolean {
  const r = spawnSync("openssl", ["version"], { stdio: "ignore" });
  return r.status === 0;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], dir);
  openssl(
    ["req", "-x509", "-new", "-key", key, "-out", cert, "-days", "1", "-subj", `/CN=ebind test ${name}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    dir,
  );
  return { cert, key };
}

function makeLeaf(dir: string, name: string, ca: { cert: string; key: string }, extensions: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], dir);
  openssl(["req", "-new", "-key", key, "-out", csr, "-subj", `/CN=${name}`], dir);
  openssl(["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", ext], dir);
  return { cert, key };
}

/**
 * Writes a CA, a server certificate for 127.0.0.1, a client certificate, and a second CA with its own
 * client certificate into `dir`.
 * @throws Error from `openssl` (its stderr in the message) when a step fails or openssl is missing.
 */
export function makeTlsFiles(dir: string): TlsFiles {
  const ca = makeCa(dir, "ca");
  const server = makeLeaf(dir, "server", ca, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n");
  const client = makeLeaf(dir, "client", ca, "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n");
  const other = makeCa(dir, "other-ca");
  const otherClient = makeLeaf(dir, "other-client", other, "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n");
  return {
    ca: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    otherCa: other.cert,
    otherClientCert: otherClient.cert,
    otherClientKey: otherClient.key,
  };
}

/**
 * `describe(name, fn)` for suites that need `nats-server` and `openssl`: runs when both exist; else one
 * failing test when `EBIND_REQUIRE_NATS=1` (CI must install openssl), else a skip with a warning.
 */
export function describeTls(name: string, fn: () => void): void {
  if (opensslAvailable()) {
    describeNats(name, fn);
    return;
  }
  if (natsRequired()) {
    describe(name, () => {
      it("requires openssl", () => {
        throw new Error("openssl is required for the TLS suites (EBIND_REQUIRE_NATS=1) but the openssl command was not found; install it (apt-get install openssl)");
      });
    });
    return;
  }
  process.stderr.write(`!!! openssl not found: SKIPPING TLS suite "${name}"\n`);
  describe.skip(name, fn);
}
