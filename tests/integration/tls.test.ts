import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError, createLogger, parseServerConfig, startServer } from "@sori/server";
import { startTestServer, type TestServer } from "../helpers.ts";
import { rawSocket } from "../raw-socket.ts";

type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/** An HTTPS request that trusts only the test's certificate. */
function get(url: string, ca: Buffer, init: { method?: string; body?: string } = {}): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = request(
      url,
      { ca, method: init.method ?? "GET", headers: { "content-type": "application/json" } },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += String(c);
        });
        res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", fail);
    req.end(init.body);
  });
}

describe("TLS: HTTPS and WSS from --tls-cert and --tls-key", () => {
  let dir: string;
  let cert: string;
  let key: string;
  let ca: Buffer;
  let t: TestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sori-tls-"));
    cert = join(dir, "cert.pem");
    key = join(dir, "key.pem");
    // A throwaway self-signed certificate for 127.0.0.1 (tools/pretest.ts installs openssl if missing).
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ],
      { stdio: "ignore", timeout: 20_000 },
    );
    ca = readFileSync(cert);
    t = await startTestServer(["--tls-cert", cert, "--tls-key", key]);
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the API over HTTPS with HSTS, and refuses plain HTTP on that port", async () => {
    assert.match(t.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await get(`${t.url}/healthz`, ca);
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { ok: boolean }).ok, true);
    assert.equal(health.headers["strict-transport-security"], "max-age=31536000");
    const denied = await get(`${t.url}/api/v1/devices`, ca);
    assert.equal(denied.status, 401);
    assert.equal(denied.headers["strict-transport-security"], "max-age=31536000");
    // Without trusting the certificate a client refuses to talk (no silent downgrade).
    await assert.rejects(fetch(`${t.url}/healthz`));
    await assert.rejects(fetch(`${t.url.replace("https", "http")}/healthz`));
  });

  it("serves the web app over HTTPS with every security header plus HSTS", async () => {
    const page = await get(`${t.url}/`, ca);
    assert.equal(page.status, 200);
    const csp = String(page.headers["content-security-policy"]);
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ])
      assert.ok(csp.includes(directive), `CSP has ${directive}`);
    assert.equal(page.headers["x-content-type-options"], "nosniff");
    assert.equal(page.headers["referrer-policy"], "no-referrer");
    assert.equal(page.headers["x-frame-options"], "DENY");
    assert.equal(page.headers["cross-origin-opener-policy"], "same-origin");
    assert.equal(page.headers["strict-transport-security"], "max-age=31536000");
  });

  it("speaks WSS: a raw socket authenticates with a token obtained over HTTPS", async () => {
    const reg = await get(`${t.url}/api/v1/register`, ca, {
      method: "POST",
      body: JSON.stringify({
        username: "wss-user",
        password: "a long password",
        device: { name: "d", signatureKey: "AAAA" },
      }),
    });
    assert.equal(reg.status, 201);
    const s = await rawSocket(t.url, { ca });
    try {
      const auth = await s.auth((JSON.parse(reg.body) as { token: string }).token);
      assert.equal(auth.type, "result");
      assert.equal((await s.call({ type: "ping" })).type, "result");
    } finally {
      s.close();
    }
  });

  it("the SDK registers, connects and delivers a message over HTTPS + WSS when the CA is trusted", async () => {
    const out = await new Promise<string>((done, fail) => {
      execFile(
        process.execPath,
        [resolve("tests/fixtures/tls-client.ts"), t.url],
        { env: { ...process.env, NODE_EXTRA_CA_CERTS: cert }, timeout: 60_000 },
        (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout)),
      );
    });
    assert.equal(out.trim(), "ok over wss 보안");
  });

  it("a missing certificate file stops the start with a clear error", async () => {
    const config = parseServerConfig(
      ["--port", "0", "--data", join(dir, "data"), "--tls-cert", join(dir, "nope.pem"), "--tls-key", key],
      {},
    );
    await assert.rejects(
      startServer(
        config,
        createLogger("error", () => undefined),
      ),
      (e: unknown) =>
        e instanceof ConfigError && /--tls-cert .*nope\.pem: cannot read it \(ENOENT\)/.test(e.message),
    );
  });
});
