import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { FileFetcher, fileNameOf } from "./file-fetch.ts";

describe("fetching what XMPP users link to", () => {
  const routes: Record<string, (res: ServerResponse) => void> = {
    "/a.txt": (res) => {
      res.setHeader("content-type", "text/plain");
      res.end("hello");
    },
    "/to-a": (res) => {
      res.writeHead(302, { location: "/a.txt" });
      res.end();
    },
    "/to-file": (res) => {
      res.writeHead(302, { location: "file:///etc/passwd" });
      res.end();
    },
    "/loop": (res) => {
      res.writeHead(302, { location: "/loop" });
      res.end();
    },
    "/hang": () => undefined,
  };
  const server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? "/", "http://x").pathname];
    if (route) route(res);
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  let base = "";
  before(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const loopback = (o: ConstructorParameters<typeof FileFetcher>[0] = {}): FileFetcher =>
    new FileFetcher({ allowPrivateAddresses: true, ...o });

  it("refuses loopback and private addresses by default, by IP literal and by name", async () => {
    const fetcher = new FileFetcher();
    for (const url of [
      `${base}/a.txt`,
      "http://localhost:1/a.txt",
      "http://[::ffff:127.0.0.1]:1/a",
      "http://10.1.2.3/a",
    ]) {
      const r = await fetcher.fetch(url, "juliet@xmpp.test");
      assert.deepEqual(r, { ok: false, failure: { code: "private-address" } }, url);
    }
  });

  it("fetches, follows a redirect to http, refuses one to another scheme or too many", async () => {
    const fetcher = loopback();
    const ok = await fetcher.fetch(`${base}/to-a`, "j");
    assert.ok(ok.ok);
    assert.equal(Buffer.from(ok.file.bytes).toString(), "hello");
    assert.equal(ok.file.name, "a.txt");
    assert.equal(ok.file.mime, "text/plain");
    assert.deepEqual(await fetcher.fetch(`${base}/to-file`, "j"), {
      ok: false,
      failure: { code: "bad-scheme" },
    });
    assert.deepEqual(await fetcher.fetch(`${base}/loop`, "j"), {
      ok: false,
      failure: { code: "too-many-redirects" },
    });
    assert.deepEqual(await fetcher.fetch(`${base}/nothing`, "j"), {
      ok: false,
      failure: { code: "http-status", status: 404 },
    });
    assert.deepEqual(await fetcher.fetch("not a url", "j"), { ok: false, failure: { code: "bad-url" } });
    assert.deepEqual(await fetcher.fetch("http://user:pw@example.test/", "j"), {
      ok: false,
      failure: { code: "bad-url" },
    });
  });

  it("gives up on time, and lets one address have only two fetches under way", async () => {
    const fetcher = loopback({ totalTimeoutMs: 300 });
    const slow = [fetcher.fetch(`${base}/hang`, "j"), fetcher.fetch(`${base}/hang`, "j")];
    assert.deepEqual(await fetcher.fetch(`${base}/a.txt`, "j"), { ok: false, failure: { code: "busy" } });
    assert.ok((await fetcher.fetch(`${base}/a.txt`, "romeo")).ok, "another address is not held up");
    for (const r of await Promise.all(slow)) assert.deepEqual(r, { ok: false, failure: { code: "timeout" } });
    assert.ok((await fetcher.fetch(`${base}/a.txt`, "j")).ok, "its places are free again");
  });

  it("names a fetched file after its URL's last segment, made safe", () => {
    assert.equal(fileNameOf(new URL("https://u.test/file_share/x/%EC%82%AC%EC%A7%84%201.jpg")), "사진 1.jpg");
    assert.equal(fileNameOf(new URL("https://u.test/a%2Fb%5Cc%0A.txt")), "a_b_c_.txt");
    assert.equal(fileNameOf(new URL("https://u.test/%E2%80%AEgnp.exe")), "_gnp.exe");
    assert.equal(fileNameOf(new URL("https://u.test/")), "file");
    assert.equal(fileNameOf(new URL("https://u.test/%ZZ")), "%ZZ");
  });
});
