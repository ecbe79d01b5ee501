import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ChatMessage, MAX_TEXT_CHARS, type SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { startXmppGateway, type XmppGateway } from "@sori/xmpp-gateway";
import { type FakeComponentLink, FakeXmppServer } from "../fake-xmpp-server.ts";
import { newUser, suiteServer, waitFor } from "../helpers.ts";
import { type Prosody, startProsody, XmppUser } from "../xmpp-peers.ts";

const HOST = "xmpp.test";
const DOMAIN = "sori.test";
const SECRET = "component-secret-for-tests";
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const BILLION_LAUGHS =
  '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
  '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">' +
  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">' +
  '<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>';

/** A chat message to alice@sori.test from `from`, as a server passes it to the component. */
const message = (from: string, id: string, inner: string): string =>
  `<message from='${from}@${HOST}/res' to='alice@${DOMAIN}' id='${id}' type='chat'>${inner}</message>`;

/** Reads everything Alice got so far into `into`, until `ok` holds. */
async function collect(
  alice: SoriClient,
  into: ChatMessage[],
  ok: (all: ChatMessage[]) => boolean,
  timeoutMs = 15_000,
): Promise<void> {
  await waitFor(
    async () => {
      into.push(...(await alice.takeReceived()));
      return into;
    },
    ok,
    timeoutMs,
    50,
  );
}

/** The identities the gateway keeps on disk (hostile input must not add one). */
function storedIdentities(dataDir: string): string {
  return readFileSync(join(dataDir, "index.json"), "utf8");
}

/** The delivery journal's files: nothing of a hostile stanza may be in them. */
function journalText(dataDir: string): string {
  const dir = join(dataDir, "delivery-journal");
  return readFileSync(join(dir, "journal.log"), "utf8") + readFileSync(join(dir, "journal.json"), "utf8");
}

describe("XMPP gateway input from a fake XMPP server: hostile XML the component must survive", () => {
  const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
  let dataDir = "";
  const logs: string[] = [];
  const atAlice: ChatMessage[] = [];
  let fake: FakeXmppServer;
  let gatewayAccount: SoriClient;
  let alice: SoriClient;
  let gateway: XmppGateway;
  let link: FakeComponentLink;
  let baseline: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "sori-xmpp-bad-"));
    fake = await FakeXmppServer.start({ domain: DOMAIN, secret: SECRET });
    gatewayAccount = await newUser(server.url, "xmppgw");
    alice = await newUser(server.url, "alice");
    gateway = await startXmppGateway({
      client: gatewayAccount,
      service: `xmpp://127.0.0.1:${fake.port}`,
      domain: DOMAIN,
      secret: SECRET,
      dataDir,
      log: createLogger("info", (l) => logs.push(l)),
      reconnect: { firstMs: 100, maxMs: 400 },
    });
    await gateway.online();
    link = await fake.link(0, 5000);
    // Juliet's identity exists before the hostile part: afterwards nothing stored may have changed.
    link.write(message("juliet", "hello-1", "<body>hello</body>"));
    await collect(alice, atAlice, (l) => l.some((m) => m.text === "hello"));
    baseline = storedIdentities(dataDir);
  });
  after(async () => {
    await gateway?.stop();
    await alice?.close();
    await gatewayAccount?.close();
    await fake?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps a character whole when the server's TCP writes cut it in two", async () => {
    const text = "안녕하세요 <&> ]]> 🎉";
    const bytes = Buffer.from(
      message(
        "juliet",
        "split-1",
        `<body>${text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")}</body>`,
      ),
    );
    const cut = bytes.indexOf(Buffer.from("안")) + 1; // inside the three bytes of 안
    link.write(bytes.subarray(0, cut));
    await sleep(100);
    link.write(bytes.subarray(cut));
    await collect(alice, atAlice, (l) => l.some((m) => m.text?.startsWith("안녕")));
    assert.equal(atAlice.at(-1)!.text, text);
  });

  it("refuses a stanza over 256 KiB with an error to its sender and reads on, keeping nothing of it", async () => {
    const huge = message("mallory", "huge-1", `<body>${"x".repeat(300 * 1024)}</body>`);
    for (let i = 0; i < huge.length; i += 65_536) link.write(huge.slice(i, i + 65_536));
    const [answer] = await link.waitFor(/<message type="error"[^>]*id="huge-1"[\s\S]*?<\/message>/, 10_000);
    assert.match(answer!, /to="mallory@xmpp.test\/res"/);
    assert.match(answer!, /<not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/);
    assert.match(answer!, /stanza too large: this gateway takes at most 262144 bytes/);
    link.write(message("juliet", "after-huge", "<body>after the huge one</body>"));
    await collect(alice, atAlice, (l) => l.some((m) => m.text === "after the huge one"));
    assert.equal(link.closed, false);
    assert.equal(fake.links.length, 1, "still the first connection");
  });

  it("refuses a body longer than Sori's text limit, and stanzas with undefined entities or forbidden characters", async () => {
    link.write(message("mallory", "long-1", `<body>${"y".repeat(MAX_TEXT_CHARS + 1)}</body>`));
    const [long] = await link.waitFor(/<message type="error"[^>]*id="long-1"[\s\S]*?<\/message>/, 10_000);
    assert.match(
      long!,
      /<not-acceptable[^>]*\/>[\s\S]*message too long: Sori takes at most 16,000 characters/,
    );
    link.write(message("mallory", "laughs-1", "<body>&lol9;</body>"));
    link.write(message("mallory", "control-1", "<body>bell \u0007</body>"));
    link.write(message("mallory", "badref-1", "<body>&#0;</body>"));
    for (const id of ["laughs-1", "control-1", "badref-1"]) {
      const [answer] = await link.waitFor(
        new RegExp(`<message type="error"[^>]*id="${id}"[\\s\\S]*?</message>`),
        10_000,
      );
      assert.match(answer!, /<bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/);
    }
    link.write(message("juliet", "after-bad", "<body>after the bad ones</body>"));
    await collect(alice, atAlice, (l) => l.some((m) => m.text === "after the bad ones"));
    assert.equal(link.closed, false);
  });

  it("passes the body of a message with unknown namespaces, ignores unknown payloads, answers unknown requests", async () => {
    link.write(
      message(
        "juliet",
        "ext-1",
        "<body>with extras</body><x xmlns='urn:example:unknown'><y z='1'>deep</y></x>",
      ),
    );
    link.write(message("mallory", "ext-2", "<x xmlns='urn:example:unknown'/>"));
    link.write("<nonza xmlns='urn:example:unknown'><child/></nonza>");
    link.write(
      `<iq type='get' id='q-1' from='mallory@${HOST}/res' to='${DOMAIN}'><query xmlns='urn:example:unknown'/></iq>`,
    );
    const [iq] = await link.waitFor(/<iq [^>]*id="q-1"[\s\S]*?<\/iq>/, 10_000);
    assert.match(iq!, /type="error"/);
    assert.match(iq!, /service-unavailable/);
    await collect(alice, atAlice, (l) => l.some((m) => m.text === "with extras"));
    assert.equal(link.closed, false);
  });

  it("ends the stream on a DTD (billion laughs) or broken XML with a stream error, and connects again", async () => {
    const cases = [BILLION_LAUGHS, "<message to='alice@sori.test'><body>x</message>", "<!-- a comment -->"];
    for (const [i, hostile] of cases.entries()) {
      const current = fake.links[i]!;
      current.write(hostile);
      await current.waitFor(
        /<stream:error><bad-format xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/><\/stream:error>/,
        5000,
      );
      await current.waitClosed(5000);
      const next = await fake.link(i + 1, 10_000);
      next.write(message("juliet", `back-${i}`, `<body>back ${i}</body>`));
      await collect(alice, atAlice, (l) => l.some((m) => m.text === `back ${i}`));
    }
    link = fake.links.at(-1)!;
    const faults = logs.filter((l) => l.includes("xmpp.stream_error")).join("\n");
    assert.match(faults, /restricted-xml/);
    assert.match(faults, /not-well-formed/);
  });

  it("changed nothing stored, delivered nothing hostile, and logged no addresses or text", async () => {
    await sleep(300);
    atAlice.push(...(await alice.takeReceived()));
    assert.deepEqual(
      atAlice.map((m) => m.text),
      [
        "hello",
        "안녕하세요 <&> ]]> 🎉",
        "after the huge one",
        "after the bad ones",
        "with extras",
        "back 0",
        "back 1",
        "back 2",
      ],
    );
    assert.ok(atAlice.every((m) => m.from === `xmpp:juliet@${HOST}`));
    assert.equal(storedIdentities(dataDir), baseline, "no identity made for mallory");
    assert.doesNotMatch(journalText(dataDir), /mallory|lol|yyyy|xxxx/, "nothing kept of the hostile stanzas");
    assert.match(journalText(dataDir), /juliet/, "(the journal does keep what was delivered)");
    assert.equal(await alice.findUser(`xmpp:mallory@${HOST}`), undefined);
    assert.ok(gateway.stats().dropped >= 6, JSON.stringify(gateway.stats()));
    assert.doesNotMatch(logs.join("\n"), /juliet|mallory|alice@|hello|안녕|lol/);
  });
});

describe("XMPP gateway: hostile input from a real client through Prosody", () => {
  const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
  let dataDir = "";
  const logs: string[] = [];
  const atAlice: ChatMessage[] = [];
  let prosody: Prosody;
  let gatewayAccount: SoriClient;
  let alice: SoriClient;
  let gateway: XmppGateway;
  let juliet: XmppUser;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "sori-xmpp-bad-prosody-"));
    prosody = await startProsody({
      host: HOST,
      componentDomain: DOMAIN,
      users: { juliet: "juliet-password", mallory: "mallory-password" },
    });
    gatewayAccount = await newUser(server.url, "xmppgw");
    alice = await newUser(server.url, "alice");
    gateway = await startXmppGateway({
      client: gatewayAccount,
      service: `xmpp://127.0.0.1:${prosody.componentPort}`,
      domain: DOMAIN,
      secret: prosody.secret,
      dataDir,
      log: createLogger("info", (l) => logs.push(l)),
      // Below Prosody's own 256 KiB for clients, so that a stanza over it can reach the component.
      maxStanzaBytes: 64 * 1024,
    });
    await gateway.online();
    juliet = await XmppUser.start(`juliet@${HOST}`, "juliet-password", prosody.c2sPort);
  });
  after(async () => {
    await juliet?.stop();
    await gateway?.stop();
    await alice?.close();
    await gatewayAccount?.close();
    await prosody?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("billion laughs from a client: Prosody ends that client's stream, the component stays connected", async () => {
    const mallory = await XmppUser.start(`mallory@${HOST}`, "mallory-password", prosody.c2sPort);
    mallory.send({
      op: "raw",
      xml: `${BILLION_LAUGHS}<message to='alice@${DOMAIN}' type='chat'><body>&lol9;</body></message>`,
    });
    await mallory.next((e) => e.event === "disconnected", 10_000);
    await mallory.stop();
    juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: "still here", id: "still-1" });
    await collect(alice, atAlice, (l) => l.some((m) => m.text === "still here"));
    assert.equal(gateway.stats().online, true);
    assert.ok(!logs.some((l) => l.includes("xmpp.disconnected")), "the component's link never dropped");
  });

  it("answers a stanza over the component's limit and a body over Sori's with errors the client sees", async () => {
    juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: "z".repeat(100_000), id: "big-1" });
    const big = await juliet
      .next((e) => e.type === "error" && e.id === "big-1", 10_000)
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\n${logs.join("")}\n${prosody.log().slice(-3000)}`);
      });
    assert.equal(big.error?.condition, "not-acceptable");
    assert.match(big.error?.text ?? "", /stanza too large: this gateway takes at most 65536 bytes/);
    juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: "w".repeat(MAX_TEXT_CHARS + 1), id: "long-1" });
    const long = await juliet.next((e) => e.type === "error" && e.id === "long-1", 10_000);
    assert.equal(long.error?.condition, "not-acceptable");
    assert.match(long.error?.text ?? "", /message too long/);
    juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: "w".repeat(MAX_TEXT_CHARS), id: "max-1" });
    await collect(alice, atAlice, (l) => l.some((m) => m.text?.length === MAX_TEXT_CHARS));
  });

  it("passes character references, and the body of a message with unknown namespaces", async () => {
    juliet.send({
      op: "raw",
      xml:
        `<message to='alice@${DOMAIN}' type='chat' id='ref-1'><body>&#xD55C;&#xAE00; &#x1F389; &lt;&amp;&gt;</body>` +
        "<x xmlns='urn:example:unknown'><y/></x></message>",
    });
    await collect(alice, atAlice, (l) => l.some((m) => m.text === "한글 🎉 <&>"));
    assert.equal(gateway.stats().online, true);
    assert.doesNotMatch(logs.join("\n"), /juliet|mallory|alice@|한글|lol/);
  });
});
