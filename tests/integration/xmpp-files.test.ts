import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ChatMessage, SoriClient } from "@sori/sdk";
import type { XmppGateway } from "@sori/xmpp-gateway";
import { freePort } from "../child-server.ts";
import { jsonLines, soriRunner } from "../cli-runner.ts";
import { newUser, receive, suiteServer, waitFor } from "../helpers.ts";
import { type Prosody, startProsody, type XmppEvent, XmppUser } from "../xmpp-peers.ts";
import { startTestGateway } from "../xmpp-gateway-harness.ts";

const HOST = "xmpp.test";
const DOMAIN = "sori.test";
const ALICE = `alice@${DOMAIN}`;
const JULIET = `juliet@${HOST}`;
/** What the gateway fetches at most here: small, so that "too large" is quick to reach. */
const MAX_FETCH_BYTES = 1_000_000;
const OOB = "jabber:x:oob";

const sori = soriRunner("cli test password", 60_000);
const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** A loopback HTTP server that answers each path as the test says (files the XMPP user links to). */
async function linkServer(
  routes: Record<string, (res: ServerResponse) => void>,
): Promise<{ url: (path: string) => string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? "/", "http://x").pathname];
    if (route) route(res);
    else {
      res.statusCode = 404;
      res.end("no");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

describe("XMPP gateway files (XEP-0066 links, XEP-0363 uploads) with Prosody and a slixmpp user", () => {
  const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
  let prosody: Prosody;
  let gatewayAccount: SoriClient;
  let alice: SoriClient;
  let juliet: XmppUser;
  let gateway: XmppGateway | undefined;
  let links: Awaited<ReturnType<typeof linkServer>>;
  let filesPort: number;
  /** Alice's chat with juliet's identity. */
  let chat: string;
  const logs: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), "sori-xmpp-files-"));
  const big = randomBytes(MAX_FETCH_BYTES + 200_000);
  let counter = 0;
  const nextId = (prefix: string): string => `${prefix}-${++counter}`;

  const startGateway = (linkTtlMs?: number, hosting = true): Promise<XmppGateway> =>
    startTestGateway(
      { client: gatewayAccount, xmpp: prosody, domain: DOMAIN, dataDir, logs },
      {
        ...(hosting
          ? {
              fileHosting: {
                host: "127.0.0.1",
                port: filesPort,
                publicUrl: `http://127.0.0.1:${filesPort}/files`,
                ...(linkTtlMs !== undefined ? { linkTtlMs } : {}),
              },
            }
          : {}),
        // Prosody and the test's link server are on loopback, which a gateway refuses by default.
        fileFetch: { maxBytes: MAX_FETCH_BYTES, allowPrivateAddresses: true, totalTimeoutMs: 3000 },
      },
    );

  /** Alice sends a file to Juliet; resolves with the link stanza Juliet got (and its URL). */
  const fileToJuliet = async (
    file: { name: string; mime: string; bytes: Uint8Array },
    caption?: string,
  ): Promise<{ m: ChatMessage; url: string; link: XmppEvent }> => {
    const m = await alice.sendFile(chat, file, caption ? { caption } : {});
    const link = await juliet.next((e) => e.event === "message" && e.id === m.id, 20_000);
    return { m, url: link.oob!, link };
  };

  /** Juliet's next messages reach Alice; resolves with Alice's copy. */
  const aliceGets = async (): Promise<ChatMessage> => {
    const [m] = await receive(alice, 1, 20_000);
    return m!;
  };

  before(async () => {
    prosody = await startProsody({
      host: HOST,
      componentDomain: DOMAIN,
      users: { juliet: "juliet-password" },
      httpUpload: { maxBytes: 5_000_000 },
    });
    filesPort = await freePort();
    links = await linkServer({
      "/big.bin": (res) => {
        res.setHeader("content-type", "application/octet-stream");
        res.end(big);
      },
      // No Content-Length: the limit must hold while the bytes come.
      "/big-chunked.bin": (res) => {
        res.setHeader("content-type", "application/octet-stream");
        res.write(big.subarray(0, 600_000));
        res.end(big.subarray(600_000));
      },
      "/slow.bin": () => undefined,
    });
    gatewayAccount = await newUser(server.url, "xmppgw");
    alice = await newUser(server.url, "alice");
    gateway = await startGateway();
    juliet = await XmppUser.start(JULIET, "juliet-password", prosody.c2sPort);
    juliet.send({ op: "send", to: ALICE, body: "hello", id: nextId("hello") });
    chat = (await aliceGets()).chat;
  });
  after(async () => {
    await juliet?.stop();
    await gateway?.stop();
    await alice?.close();
    await gatewayAccount?.close();
    await links?.close();
    await prosody?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("Sori → XMPP: a file reaches the XMPP user as a link with the same SHA-256, its caption after it", async () => {
    const bytes = randomBytes(300_000);
    const name = "회의 자료 (최종).pdf";
    const { m, url, link } = await fileToJuliet({ name, mime: "application/pdf", bytes }, "여기 있어요");
    // As Conversations, Gajim and Dino show a file: the body is the link, and slixmpp's XEP-0066 reads it.
    assert.equal(link.body, url);
    assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${filesPort}/files/[A-Za-z0-9_-]{43}/`));
    assert.ok(url.endsWith(`/${encodeURIComponent(name)}`), url);
    const stanza = await juliet.next((e) => e.event === "stanza" && e.tree!.attrs.id === m.id);
    const x = stanza.tree!.children.find((c) => c.name === "x" && c.ns === OOB);
    assert.equal(x?.children.find((c) => c.name === "url")?.text, url);
    const caption = await juliet.next((e) => e.event === "message" && e.body === "여기 있어요");
    assert.equal(caption.oob, undefined, "the caption is a message of its own");
    // An edited caption corrects the caption's message, never the link's.
    await alice.editMessage(chat, m.id, "고친 설명");
    const corrected = await juliet.next((e) => e.event === "feature" && e.feature === "correction");
    assert.equal(corrected.of, caption.id);
    assert.equal(corrected.body, "고친 설명");

    const res = await fetch(url);
    assert.equal(res.status, 200);
    const got = new Uint8Array(await res.arrayBuffer());
    assert.equal(sha256(got), sha256(bytes));
    assert.equal(res.headers.get("content-type"), "application/pdf");
    assert.equal(res.headers.get("content-length"), String(bytes.length));
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(
      res.headers.get("content-disposition"),
      "attachment; filename=\"__ __ (__).pdf\"; filename*=UTF-8''" +
        "%ED%9A%8C%EC%9D%98%20%EC%9E%90%EB%A3%8C%20%28%EC%B5%9C%EC%A2%85%29.pdf",
    );
    // What Conversations asks first (the size), and a resumed download.
    const head = await fetch(url, { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), String(bytes.length));
    const part = await fetch(url, { headers: { range: "bytes=1000-1999" } });
    assert.equal(part.status, 206);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), new Uint8Array(bytes.subarray(1000, 2000)));
    // Nothing in the logs names the link.
    const token = new URL(url).pathname.split("/")[2]!;
    assert.ok(!logs.some((l) => l.includes(token)), "the token is never logged");
  });

  it("links outlive a restart of the gateway, unknown and expired ones get the same 404", async () => {
    const bytes = randomBytes(50_000);
    const { url } = await fileToJuliet({ name: "kept.bin", mime: "application/octet-stream", bytes });
    await gateway!.stop();
    gateway = await startGateway(1500);
    const after = await fetch(url);
    assert.equal(after.status, 200);
    assert.equal(sha256(new Uint8Array(await after.arrayBuffer())), sha256(bytes));

    const short = await fileToJuliet({ name: "short.bin", mime: "application/octet-stream", bytes });
    assert.equal((await fetch(short.url)).status, 200);
    const unknown = new URL(short.url);
    unknown.pathname = `/files/${randomBytes(32).toString("base64url")}/short.bin`;
    const notFound = await fetch(unknown);
    assert.equal(notFound.status, 404);
    const notFoundBody = await notFound.text();
    assert.equal((await fetch(`http://127.0.0.1:${filesPort}/files/not-a-token/x`)).status, 404);
    await new Promise((r) => setTimeout(r, 1700));
    const expired = await fetch(short.url);
    assert.equal(expired.status, 404);
    assert.equal(await expired.text(), notFoundBody, "expired looks like unknown");
    assert.equal((await fetch(short.url, { method: "POST" })).status, 405);
    await gateway.stop();
    gateway = await startGateway();
  });

  it("without a file server, a file reaches XMPP as its name with a note, said once in the log", async () => {
    await gateway!.stop();
    gateway = await startGateway(undefined, false);
    const before = logs.length;
    try {
      for (const name of ["a.txt", "b.txt"]) {
        const m = await alice.sendFile(
          chat,
          { name, mime: "text/plain", bytes: randomBytes(10) },
          { caption: "c" },
        );
        const got = await juliet.next((e) => e.event === "message" && e.id === m.id, 20_000);
        assert.equal(got.body, `[file: ${name} (not passed on by the gateway)] c`);
        assert.equal(got.oob, undefined);
      }
      assert.equal(logs.slice(before).filter((l) => l.includes("xmpp.file_hosting_off")).length, 1);
    } finally {
      await gateway.stop();
      gateway = await startGateway();
    }
  });

  it("a file deleted for everyone is taken down: its link 404s and XMPP gets a retraction", async () => {
    const { m, url } = await fileToJuliet(
      { name: "oops.png", mime: "image/png", bytes: randomBytes(10_000) },
      "wrong file",
    );
    const res = await fetch(url);
    assert.equal(
      res.headers.get("content-disposition")?.startsWith("inline;"),
      true,
      "an image shows inline",
    );
    await res.arrayBuffer();
    await alice.deleteForEveryone(chat, m.id);
    await juliet.next((e) => e.event === "feature" && e.feature === "retraction" && e.of === m.id);
    await juliet.next(
      (e) => e.event === "feature" && e.feature === "retraction" && e.of === `${m.id}.caption`,
    );
    await waitFor(
      async () => (await fetch(url)).status,
      (s) => s === 404,
      10_000,
      100,
    );
  });

  it("a file name cannot inject headers, and HTML is an attachment that runs nothing", async () => {
    const name = 'evil"\r\nSet-Cookie: stolen=1; x=".html';
    const { url } = await fileToJuliet({
      name,
      mime: "text/html",
      bytes: new TextEncoder().encode("<script>1</script>"),
    });
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("set-cookie"), null);
    const disposition = res.headers.get("content-disposition")!;
    assert.ok(
      disposition.startsWith('attachment; filename="evil___Set-Cookie: stolen=1_ x=_.html"; '),
      disposition,
    );
    assert.ok(
      disposition.endsWith("filename*=UTF-8''evil%22%0D%0ASet-Cookie%3A%20stolen%3D1%3B%20x%3D%22.html"),
    );
    assert.ok(!/[\r\n]/.test(disposition));
    assert.equal(res.headers.get("content-security-policy"), "default-src 'none'; sandbox");
    assert.equal(res.headers.get("content-type"), "text/html");
  });

  it("XMPP → Sori: an XEP-0363 upload arrives as a Sori attachment with the same SHA-256", async () => {
    const bytes = randomBytes(400_000);
    juliet.send({
      op: "upload",
      to: ALICE,
      service: `upload.${HOST}`,
      name: "사진 1.jpg",
      mime: "image/jpeg",
      data: bytes.toString("base64"),
      id: nextId("upload"),
    });
    const uploaded = await juliet.next((e) => e.event === "uploaded" || e.event === "upload-failed", 20_000);
    assert.equal(uploaded.event, "uploaded", uploaded.reason);
    const m = await aliceGets();
    assert.ok(m.kind === "file" && !m.deleted, m.kind);
    assert.equal(m.file.name, "사진 1.jpg");
    assert.equal(m.file.mime, "image/jpeg");
    assert.equal(m.file.size, bytes.length);
    assert.equal(m.text, "");
    assert.equal(sha256(await alice.downloadFile(m.chat, m.id)), sha256(bytes));
  });

  it("the CLI shows and saves an XMPP user's file like any other", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sori-xmpp-files-cli-"));
    try {
      const profile = ["--profile", join(dir, "carol")];
      const registered = await sori(["register", "carol", "--server", server.url, ...profile]);
      assert.equal(registered.code, 0, registered.stderr);
      const bytes = randomBytes(150_000);
      juliet.send({
        op: "upload",
        to: `carol@${DOMAIN}`,
        service: `upload.${HOST}`,
        name: "메모.txt",
        mime: "text/plain",
        data: bytes.toString("base64"),
        caption: "읽어 줘",
      });
      const downloads = join(dir, "dl");
      const got = await sori(["receive", "--json", "--wait", "20", "--download-dir", downloads, ...profile]);
      assert.equal(got.code, 0, got.stderr);
      const [m] = jsonLines(got.stdout);
      assert.equal(m?.from, `xmpp:${JULIET}`);
      assert.equal(m?.text, "읽어 줘");
      const file = m?.file as { name: string; size: number; path: string };
      assert.deepEqual([file.name, file.size], ["메모.txt", bytes.length]);
      assert.equal(sha256(readFileSync(file.path)), sha256(bytes));
      const history = await sori(["history", `xmpp:${JULIET}`, ...profile]);
      assert.match(history.stdout, /\[file 메모\.txt, 150000 bytes[^\]]*\] 읽어 줘/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("XMPP → Sori: a link with a caption, served by anyone, becomes a file with that caption", async () => {
    const small = randomBytes(20_000);
    const served = await linkServer({
      "/doc.txt": (res) => {
        res.setHeader("content-type", "text/plain; charset=utf-8");
        res.end(small);
      },
    });
    try {
      juliet.send({
        op: "link",
        to: ALICE,
        url: served.url("/doc.txt"),
        body: "읽어 보세요",
        id: nextId("l"),
      });
      const m = await aliceGets();
      assert.ok(m.kind === "file" && !m.deleted, m.kind);
      assert.equal(m.text, "읽어 보세요");
      assert.equal(m.file.mime, "text/plain");
      assert.equal(sha256(await alice.downloadFile(m.chat, m.id)), sha256(small));
    } finally {
      await served.close();
    }
  });

  it("a file the gateway cannot fetch arrives as its link with a note saying why, nothing lost", async () => {
    const closed = `http://127.0.0.1:${await freePort()}/gone.bin`;
    const cases: [string, RegExp][] = [
      [links.url("/big.bin"), /it is larger than 1 MB\]$/],
      [links.url("/big-chunked.bin"), /it is larger than 1 MB\]$/],
      [links.url("/missing.bin"), /its server answered 404\]$/],
      [closed, /its server could not be reached\]$/],
      [links.url("/slow.bin"), /it took too long to download\]$/],
      ["ftp://127.0.0.1/file.bin", /only http and https links are fetched\]$/],
    ];
    for (const [url, why] of cases) {
      const before = logs.length;
      juliet.send({ op: "link", to: ALICE, url, id: nextId("bad") });
      const m = await aliceGets();
      assert.equal(m.kind, "text", url);
      assert.ok(m.text.startsWith(`${url}\n[the XMPP gateway could not fetch this file: `), m.text);
      assert.match(m.text, why);
      const failed = logs.slice(before).find((l) => l.includes("xmpp.file_fetch_failed"));
      assert.ok(failed, "logged");
      assert.ok(!failed.includes("127.0.0.1") && !failed.includes(".bin"), `no URL in the log: ${failed}`);
    }
  });

  it("in a room: a Sori member's file reaches the XMPP member as a link, and theirs reaches Sori as a file", async () => {
    const group = await alice.createGroup("파일 방", [`xmpp:${JULIET}`]);
    const room = (await juliet.next((e) => e.invite !== undefined, 20_000)).invite!;
    juliet.send({
      op: "raw",
      xml: `<presence xmlns="jabber:client" to="${room}/jules"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
    });
    await juliet.next(
      (e) =>
        e.event === "presence" && e.from?.startsWith(`${room}/`) === true && (e.codes ?? []).includes(110),
    );
    const bytes = randomBytes(120_000);
    const m = await alice.sendFile(
      group.id,
      { name: "방 사진.png", mime: "image/png", bytes },
      { caption: "모두에게" },
    );
    const link = await juliet.next((e) => e.type === "groupchat" && e.id === m.id, 20_000);
    assert.equal(link.from, `${room}/alice`);
    assert.ok(link.oob && link.body === link.oob, JSON.stringify(link));
    assert.equal(sha256(new Uint8Array(await (await fetch(link.oob)).arrayBuffer())), sha256(bytes));
    await juliet.next((e) => e.type === "groupchat" && e.body === "모두에게");

    const theirs = randomBytes(30_000);
    const served = await linkServer({ "/room.bin": (res) => res.end(theirs) });
    try {
      const url = served.url("/room.bin");
      const id = nextId("room-file");
      juliet.send({
        op: "raw",
        xml: `<message xmlns="jabber:client" type="groupchat" to="${room}" id="${id}"><body>${url}</body><x xmlns="${OOB}"><url>${url}</url></x></message>`,
      });
      const got = await aliceGets();
      assert.equal(got.chat, group.id);
      assert.ok(got.kind === "file" && !got.deleted, got.kind);
      assert.equal(got.file.name, "room.bin");
      assert.equal(sha256(await alice.downloadFile(got.chat, got.id)), sha256(theirs));
      const reflected = await juliet.next((e) => e.type === "groupchat" && e.id === id);
      assert.equal(reflected.oob, url, "the room reflects the link as it was sent");
    } finally {
      await served.close();
    }
  });

  it("OMEMO media (aesgcm://) gets the OMEMO error, and nothing reaches Sori", async () => {
    const id = nextId("omemo");
    const url = "aesgcm://upload.xmpp.test/x/photo.jpg#0123456789abcdef";
    juliet.send({ op: "link", to: ALICE, url, id });
    const error = await juliet.next((e) => e.event === "message" && e.type === "error" && e.id === id);
    assert.equal(error.error?.condition, "not-acceptable");
    assert.match(error.error?.text ?? "", /cannot read OMEMO/);
    juliet.send({ op: "send", to: ALICE, body: "after omemo", id: nextId("after") });
    assert.equal((await aliceGets()).text, "after omemo");
  });
});
