import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { parseServerConfig } from "@sori/server";
import { rawAuth, startTestServer, type TestServer } from "../helpers.ts";

/** The policy for a page asked for as `host`; `connect` is its connect-src directive. */
const csp = (connect: string): string =>
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  `${connect}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`;
/** Network access only back to the server the page came from: its origin, and WebSocket to its host. */
const connectSrc = (host: string): string => `connect-src 'self' ws://${host} wss://${host}`;

const INDEX = `<!doctype html><html><head><title>Sori</title><script type="module" src="/assets/app-abc123.js"></script></head><body><div id="root"></div><!-- INDEX-MARKER --></body></html>`;
const APP_JS = `// APP-MARKER\n${"export const filler = 'sori sori sori';\n".repeat(200)}`;
const SMALL_JS = "export const small = 1; // SMALL-MARKER\n";
const SECRET = "SECRET-OUTSIDE-WEB-DIR";
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

type Raw = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The Host header the request was sent with. */
  host: string;
};

/**
 * A request with the path sent exactly as given: fetch would normalise "/../x" away before sending, so
 * traversal attempts have to go through node:http.
 */
function raw(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Raw> {
  const { hostname, port } = new URL(base);
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        path,
        method: init.method ?? "GET",
        headers: init.headers ?? {},
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            host: init.headers?.host ?? `${hostname}:${port}`,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`request ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

function assertSecurityHeaders(r: Raw, what: string): void {
  assert.equal(r.headers["content-security-policy"], csp(connectSrc(r.host)), what);
  assert.equal(r.headers["x-content-type-options"], "nosniff", what);
  assert.equal(r.headers["referrer-policy"], "no-referrer", what);
  assert.equal(r.headers["x-frame-options"], "DENY", what);
  assert.equal(r.headers["cross-origin-opener-policy"], "same-origin", what);
  // Only over TLS (tests/integration/tls.test.ts): HSTS on plain HTTP would be ignored, or worse, pin a
  // host that has no certificate.
  assert.equal(r.headers["strict-transport-security"], undefined, what);
}

describe("the server serves the web app", () => {
  let root: string;
  let webDir: string;
  let t: TestServer;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "sori-web-"));
    webDir = join(root, "dist");
    mkdirSync(join(webDir, "assets"), { recursive: true });
    writeFileSync(join(root, "secret.txt"), SECRET);
    writeFileSync(join(webDir, "index.html"), INDEX);
    writeFileSync(join(webDir, "assets", "app-abc123.js"), APP_JS);
    writeFileSync(join(webDir, "assets", "small-abc123.js"), SMALL_JS);
    writeFileSync(
      join(webDir, "assets", "style-abc123.css"),
      `/* CSS-PLAIN */ ${"a{color:red}".repeat(200)}`,
    );
    // A build-time compressed sibling with different text, to tell which one was sent.
    writeFileSync(join(webDir, "assets", "style-abc123.css.gz"), gzipSync("/* CSS-PRECOMPRESSED */"));
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(webDir, "assets", "style-abc123.css.gz"), later, later);
    writeFileSync(join(webDir, "favicon.ico"), Buffer.from([0, 0, 1, 0]));
    writeFileSync(join(webDir, "logo.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    writeFileSync(join(webDir, "icon.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    writeFileSync(join(webDir, "manifest.webmanifest"), "{}");
    writeFileSync(join(webDir, "assets", "app-abc123.js.map"), "{}");
    writeFileSync(join(webDir, "assets", "font-abc123.woff2"), Buffer.from([1, 2, 3]));
    writeFileSync(join(webDir, ".env"), SECRET);
    symlinkSync(join(root, "secret.txt"), join(webDir, "assets", "link-abc123.txt"));
    t = await startTestServer(["--web-dir", webDir]);
  });

  after(async () => {
    await t.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("serves index.html at / with security headers and no-cache", async () => {
    const r = await raw(t.url, "/");
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], "text/html; charset=utf-8");
    assert.equal(r.headers["cache-control"], "no-cache");
    assert.match(r.body.toString(), /INDEX-MARKER/);
    assertSecurityHeaders(r, "/");
    const again = await raw(t.url, "/index.html");
    assert.equal(again.status, 200);
    assert.match(again.body.toString(), /INDEX-MARKER/);
  });

  it("lets the page connect only back to the host it was asked for: its origin, and WebSocket to it", async () => {
    const directive = (r: Raw): string | undefined =>
      String(r.headers["content-security-policy"])
        .split("; ")
        .find((d) => d.startsWith("connect-src"));
    const { host } = new URL(t.url);
    assert.equal(directive(await raw(t.url, "/")), `connect-src 'self' ws://${host} wss://${host}`);
    // Names as a browser sends them behind a proxy: a DNS name (lower-cased) and an IPv6 literal.
    for (const [asked, listed] of [
      ["Chat.Example.org:8443", "chat.example.org:8443"],
      ["sori.example", "sori.example"],
      ["[::1]:8080", "[::1]:8080"],
    ] as const) {
      const r = await raw(t.url, "/", { headers: { host: asked } });
      assert.equal(directive(r), `connect-src 'self' ws://${listed} wss://${listed}`, asked);
    }
    // A Host that is not a plain authority is never copied into the policy: 'self' alone, and nothing added.
    for (const bad of ["evil.example; script-src *", "a.example b.example", "evil.example/x", "*", "a:b:c"]) {
      const r = await raw(t.url, "/", { headers: { host: bad } });
      assert.equal(r.headers["content-security-policy"], csp("connect-src 'self'"), bad);
    }
  });

  it("serves hashed assets as immutable, with the right content types", async () => {
    const js = await raw(t.url, "/assets/app-abc123.js");
    assert.equal(js.status, 200);
    assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(js.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(js.body.toString(), APP_JS);
    assertSecurityHeaders(js, "js");
    const types: [string, string][] = [
      ["/assets/style-abc123.css", "text/css; charset=utf-8"],
      ["/logo.svg", "image/svg+xml"],
      ["/icon.png", "image/png"],
      ["/favicon.ico", "image/x-icon"],
      ["/manifest.webmanifest", "application/manifest+json; charset=utf-8"],
      ["/assets/app-abc123.js.map", "application/json; charset=utf-8"],
      ["/assets/font-abc123.woff2", "font/woff2"],
    ];
    for (const [path, type] of types) {
      const r = await raw(t.url, path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers["content-type"], type, path);
      assertSecurityHeaders(r, path);
    }
    assert.equal((await raw(t.url, "/favicon.ico")).headers["cache-control"], "no-cache");
  });

  it("answers app routes without a file extension with index.html", async () => {
    for (const path of ["/chats", "/chats/abc-def_123", "/settings/devices/", "/login?next=%2Fchats"]) {
      const r = await raw(t.url, path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers["content-type"], "text/html; charset=utf-8", path);
      assert.equal(r.headers["cache-control"], "no-cache", path);
      assert.match(r.body.toString(), /INDEX-MARKER/, path);
      assertSecurityHeaders(r, path);
    }
  });

  it("answers 404 for missing files and assets, never index.html", async () => {
    for (const path of ["/assets/missing-999.js", "/missing.png", "/assets/nothing", "/x/y.css", "/.env"]) {
      const r = await raw(t.url, path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body.toString(), /INDEX-MARKER|SECRET/, path);
      assertSecurityHeaders(r, path);
    }
  });

  it("compresses text over 1 KB for clients that accept gzip, and uses a .gz sibling when there is one", async () => {
    const gz = await raw(t.url, "/assets/app-abc123.js", {
      headers: { "accept-encoding": "gzip, deflate, br" },
    });
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.equal(gz.headers.vary, "Accept-Encoding");
    assert.equal(Number(gz.headers["content-length"]), gz.body.length);
    assert.ok(gz.body.length < APP_JS.length / 4);
    assert.equal(gunzipSync(gz.body).toString(), APP_JS);
    // Second time from the in-memory cache: the same bytes.
    const cached = await raw(t.url, "/assets/app-abc123.js", { headers: { "accept-encoding": "gzip" } });
    assert.deepEqual(cached.body, gz.body);

    const plain = await raw(t.url, "/assets/app-abc123.js");
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.body.toString(), APP_JS);
    const refused = await raw(t.url, "/assets/app-abc123.js", { headers: { "accept-encoding": "gzip;q=0" } });
    assert.equal(refused.headers["content-encoding"], undefined);

    const small = await raw(t.url, "/assets/small-abc123.js", { headers: { "accept-encoding": "gzip" } });
    assert.equal(small.headers["content-encoding"], undefined, "small files are sent as they are");
    assert.equal(small.body.toString(), SMALL_JS);

    const png = await raw(t.url, "/icon.png", { headers: { "accept-encoding": "gzip" } });
    assert.equal(png.headers["content-encoding"], undefined, "images are not recompressed");

    const pre = await raw(t.url, "/assets/style-abc123.css", { headers: { "accept-encoding": "gzip" } });
    assert.equal(pre.headers["content-encoding"], "gzip");
    assert.equal(pre.headers["content-type"], "text/css; charset=utf-8");
    assert.equal(gunzipSync(pre.body).toString(), "/* CSS-PRECOMPRESSED */");

    const html = await raw(t.url, "/", { headers: { "accept-encoding": "gzip" } });
    assert.equal(html.headers["content-encoding"], undefined, "index.html is under 1 KB here");
  });

  it("answers HEAD with headers only and revalidation with 304", async () => {
    const head = await raw(t.url, "/assets/app-abc123.js", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers["content-length"]), Buffer.byteLength(APP_JS));
    assert.equal(head.body.length, 0);
    const first = await raw(t.url, "/");
    const etag = first.headers.etag;
    assert.equal(typeof etag, "string");
    const again = await raw(t.url, "/", { headers: { "if-none-match": etag as string } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assertSecurityHeaders(again, "304");
  });

  it("refuses methods other than GET and HEAD on app paths", async () => {
    const r = await raw(t.url, "/", { method: "POST" });
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, "GET, HEAD");
  });

  it("never serves a file outside the web directory", async () => {
    const attempts = [
      "/../package.json",
      "/../secret.txt",
      "/%2e%2e/",
      "/%2e%2e/secret.txt",
      "/%2E%2E/%2e%2e/package.json",
      "/assets/..%2f..%2fpackage.json",
      "/assets/..%2f..%2fsecret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
      "/assets/../../secret.txt",
      "/..%5csecret.txt",
      "/assets/..\\..\\secret.txt",
      "/%00",
      "/index.html%00.js",
      "/%ff%fe",
      "/assets/link-abc123.txt",
      `/${join(root, "secret.txt")}`,
      "//etc/passwd",
      "/assets/%2fetc%2fpasswd",
      "/./index.html",
    ];
    for (const path of attempts) {
      const r = await raw(t.url, path);
      const body = r.body.toString("latin1");
      assert.ok([400, 404].includes(r.status), `${path}: status ${r.status}`);
      assert.doesNotMatch(body, /SECRET|"workspaces"|root:x:0/, path);
      assertSecurityHeaders(r, path);
    }
  });

  it("keeps the API working, with nosniff on JSON", async () => {
    const health = await fetch(`${t.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(health.headers.get("x-content-type-options"), "nosniff");
    assert.equal(((await health.json()) as { ok: boolean }).ok, true);
    const reg = await rawAuth(t.url, "register", "static_alice");
    assert.equal(reg.status, 201);
    assert.equal(reg.headers.get("content-type"), "application/json; charset=utf-8");
    for (const path of ["/api/v1/nope", "/api/nope", "/api", "/api/v1/ws"]) {
      const r = await fetch(`${t.url}${path}`);
      assert.equal(r.status, 404, path);
      assert.equal(r.headers.get("content-type"), "application/json; charset=utf-8", path);
      assert.equal(r.headers.get("x-content-type-options"), "nosniff", path);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, "not-found", path);
    }
  });
});

describe("without a built web app", () => {
  it("answers / with how to build it", async () => {
    const empty = mkdtempSync(join(tmpdir(), "sori-noweb-"));
    const t = await startTestServer(["--web-dir", join(empty, "dist")]);
    try {
      for (const path of ["/", "/chats/x"]) {
        const r = await raw(t.url, path);
        assert.equal(r.status, 200, path);
        assert.equal(r.headers["content-type"], "text/plain; charset=utf-8", path);
        assert.match(r.body.toString(), /not built/, path);
        assert.match(r.body.toString(), /npm run build -w @sori\/web/, path);
        assertSecurityHeaders(r, path);
      }
      assert.equal((await raw(t.url, "/assets/app.js")).status, 404);
      assert.ok(t.logs.some((l) => l.includes('"web":"not built"')));
    } finally {
      await t.stop();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("finds apps/web/dist from the server's location by default; --web-dir and SORI_WEB_DIR override", () => {
    assert.equal(parseServerConfig([], {}).webDir, resolve(REPO_ROOT, "apps/web/dist"));
    assert.equal(parseServerConfig([], { SORI_WEB_DIR: "/srv/sori-web" }).webDir, "/srv/sori-web");
    assert.equal(
      parseServerConfig(["--web-dir", "/srv/a"], { SORI_WEB_DIR: "/srv/b" }).webDir,
      resolve("/srv/a"),
    );
  });
});
