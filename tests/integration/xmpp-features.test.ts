import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ChatMessage, SoriClient } from "@sori/sdk";
import type { XmppGateway } from "@sori/xmpp-gateway";
import { newUser, receive, suiteServer, waitFor } from "../helpers.ts";
import { type Prosody, startProsody, type XmlTree, XmppUser } from "../xmpp-peers.ts";
import { startTestGateway } from "../xmpp-gateway-harness.ts";

const HOST = "xmpp.test";
const DOMAIN = "sori.test";
const ALICE = `alice@${DOMAIN}`;
const JULIET = `juliet@${HOST}`;
/** Korean, emoji, XML's special characters and a CDATA end: all must arrive byte for byte. */
const TRICKY = "고쳤어요 <b>&amp;</b> ]]> \"quoted\" 'single' 🎉";

const NS = {
  chatStates: "http://jabber.org/protocol/chatstates",
  markers: "urn:xmpp:chat-markers:0",
  correct: "urn:xmpp:message-correct:0",
  retract: "urn:xmpp:message-retract:1",
  fasten: "urn:xmpp:fasten:0",
  reply: "urn:xmpp:reply:0",
  fallback: "urn:xmpp:fallback:0",
  reactions: "urn:xmpp:reactions:0",
};

const child = (t: XmlTree, name: string, ns?: string): XmlTree | undefined =>
  t.children.find((c) => c.name === name && (ns === undefined || c.ns === ns));

describe("XMPP gateway message features with Prosody and a slixmpp user", () => {
  const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
  let prosody: Prosody;
  let gatewayAccount: SoriClient;
  let alice: SoriClient;
  let juliet: XmppUser;
  let gateway: XmppGateway;
  /** Alice's chat with juliet's identity. */
  let chat: string;
  /** Juliet's identity's user id (reactions name it). */
  let julietId: string;
  const logs: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), "sori-xmpp-features-"));
  let counter = 0;
  const nextId = (prefix: string): string => `${prefix}-${++counter}`;

  const startGateway = (): Promise<XmppGateway> =>
    startTestGateway({ client: gatewayAccount, xmpp: prosody, domain: DOMAIN, dataDir, logs });

  /** Alice's copy of a message, once it satisfies `ok` (bounded). */
  const aliceSees = (
    id: string,
    ok: (m: ChatMessage | undefined) => boolean,
  ): Promise<ChatMessage | undefined> =>
    waitFor(async () => (await alice.history(chat)).find((m) => m.id === id), ok, 10_000, 25);

  /** Juliet sends a chat message; resolves with Alice's copy of it. */
  const fromJuliet = async (body: string, extra: Record<string, unknown> = {}): Promise<ChatMessage> => {
    juliet.send({ op: "send", to: ALICE, body, ...extra });
    const [m] = await receive(alice, 1, 15_000);
    assert.equal(m!.text, body);
    return m!;
  };

  /** Alice sends a text; resolves once Juliet got it. */
  const fromAlice = async (text: string, options: { replyTo?: string } = {}): Promise<ChatMessage> => {
    const m = await alice.sendText(chat, text, options);
    await juliet.next((e) => e.event === "message" && e.id === m.id, 15_000);
    return m;
  };

  /** The next message stanza Juliet receives that `match`es. */
  const stanza = async (match: (t: XmlTree) => boolean): Promise<XmlTree> =>
    (await juliet.next((e) => e.event === "stanza" && match(e.tree!), 10_000)).tree!;

  const errorFor = async (id: string): Promise<{ condition: string; text?: string }> =>
    (await juliet.next((e) => e.event === "message" && e.type === "error" && e.id === id)).error!;

  /** A message sent after a stanza, and seen by Alice: the stanza before it was handled by then. */
  const roundTrip = async (): Promise<void> => {
    await fromJuliet(nextId("marker"), { id: nextId("marker") });
  };

  before(async () => {
    prosody = await startProsody({
      host: HOST,
      componentDomain: DOMAIN,
      users: { juliet: "juliet-password" },
    });
    gatewayAccount = await newUser(server.url, "xmppgw");
    alice = await newUser(server.url, "alice");
    gateway = await startGateway();
    juliet = await XmppUser.start(JULIET, "juliet-password", prosody.c2sPort);
    const first = await fromJuliet("hello", { id: nextId("hello") });
    chat = first.chat;
    julietId = first.fromUserId;
  });
  after(async () => {
    await juliet?.stop();
    await gateway?.stop();
    await alice?.close();
    await gatewayAccount?.close();
    await prosody?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("typing: XEP-0085 chat states become typing on Sori, and Sori typing becomes chat states", async () => {
    const typing: boolean[] = [];
    const off = alice.on("typing", (t) => {
      if (t.chat === chat && t.username === `xmpp:${JULIET}`) typing.push(t.typing);
    });
    juliet.send({ op: "chatstate", to: ALICE, state: "composing" });
    await waitFor(
      async () => typing,
      (x) => x.length === 1,
      10_000,
      25,
    );
    juliet.send({ op: "chatstate", to: ALICE, state: "paused" });
    await waitFor(
      async () => typing,
      (x) => x.length === 2,
      10_000,
      25,
    );
    off();
    assert.deepEqual(typing, [true, false]);

    const seen = juliet.events.length;
    await alice.setTyping(chat, true);
    const composing = await juliet.next(
      (e) => juliet.events.indexOf(e) >= seen && e.event === "feature" && e.feature === "chatstate",
    );
    assert.equal(composing.state, "composing");
    assert.equal(composing.from?.split("/")[0], ALICE);
    await alice.setTyping(chat, false);
    const paused = await stanza((t) => child(t, "paused", NS.chatStates) !== undefined);
    assert.equal(paused.attrs.type, "chat");
    assert.equal(child(paused, "body"), undefined);
  });

  it("read markers: XEP-0333 displayed marks Sori messages read up to that one; Sori reading sends displayed", async () => {
    // Sori → XMPP: Alice reads; Juliet hears of the message that asked for markers, not the other.
    const markable = nextId("markable");
    const plain = nextId("plain");
    await fromJuliet("읽어 주세요 <&>", { id: markable, markable: true });
    await fromJuliet("no markers for this one", { id: plain });
    await alice.markRead(chat);
    const displayed = await juliet.next((e) => e.event === "feature" && e.feature === "displayed");
    assert.equal(displayed.of, markable);
    assert.equal(displayed.from?.split("/")[0], ALICE);

    // XMPP → Sori: the messages Alice sent carry <markable/>; Juliet displays the first of two.
    const s1 = await fromAlice("첫 번째");
    const s2 = await fromAlice("두 번째");
    const got = await stanza((t) => t.attrs.id === s1.id);
    assert.ok(child(got, "markable", NS.markers), "Sori messages ask for chat markers");
    juliet.send({ op: "displayed", to: ALICE, of: s1.id });
    await aliceSees(s1.id, (m) => m?.read === true);
    await roundTrip();
    assert.equal((await aliceSees(s2.id, () => true))?.read, undefined, "read up to the one displayed only");
    assert.equal(
      juliet.events.some((e) => e.feature === "displayed" && e.of === plain),
      false,
      "no marker for a message that did not ask",
    );
  });

  it("corrections: XEP-0308 from the author edits the Sori message, and Sori edits reach XMPP as corrections", async () => {
    const original = nextId("typo");
    const m = await fromJuliet("teh tpyo", { id: original });
    const fix1 = nextId("fix");
    juliet.send({ op: "correct", to: ALICE, id: fix1, of: original, body: TRICKY });
    assert.equal((await aliceSees(m.id, (x) => x?.text === TRICKY))?.edited, true);
    // A later correction may name the last correction instead of the original (older clients do).
    juliet.send({ op: "correct", to: ALICE, id: nextId("fix"), of: fix1, body: "두 번째 수정 & <ok>" });
    await aliceSees(m.id, (x) => x?.text === "두 번째 수정 & <ok>");

    // Someone else's message, or one nobody knows: an XMPP error, nothing changes.
    const mine = await fromAlice("Alice's own words");
    const forged = nextId("forged");
    juliet.send({ op: "correct", to: ALICE, id: forged, of: mine.id, body: "not yours" });
    assert.equal((await errorFor(forged)).condition, "forbidden");
    const unknown = nextId("unknown");
    juliet.send({ op: "correct", to: ALICE, id: unknown, of: "no-such-id", body: "what?" });
    assert.equal((await errorFor(unknown)).condition, "item-not-found");
    assert.equal((await aliceSees(mine.id, () => true))?.text, "Alice's own words");

    // Sori → XMPP.
    const s = await fromAlice("오타가 있어요");
    await alice.editMessage(chat, s.id, TRICKY);
    const correction = await juliet.next((e) => e.event === "feature" && e.feature === "correction");
    assert.equal(correction.of, s.id);
    assert.equal(correction.body, TRICKY);
    assert.equal(correction.from?.split("/")[0], ALICE);
  });

  it("retractions: XEP-0424 (both forms) from the author deletes for everyone, and Sori deletions retract", async () => {
    // slixmpp's form (inside XEP-0422 apply-to), naming the stanza id.
    const r1 = nextId("retract-me");
    const m1 = await fromJuliet("지워질 메시지", { id: r1 });
    juliet.send({ op: "retract", to: ALICE, of: r1 });
    await aliceSees(m1.id, (m) => m?.deleted === true);
    // Today's form, naming the origin-id, with a fallback body that must not arrive as text.
    const origin = nextId("origin");
    const m2 = await fromJuliet("this one too", { id: nextId("retract-me"), originId: origin });
    juliet.send({
      op: "raw",
      xml:
        `<message to="${ALICE}" type="chat" id="${nextId("retraction")}" xmlns="jabber:client">` +
        `<retract id="${origin}" xmlns="${NS.retract}"/>` +
        `<fallback xmlns="${NS.fallback}" for="${NS.retract}"/>` +
        "<body>This person attempted to retract a previous message, but it's unsupported by your client.</body>" +
        '<store xmlns="urn:xmpp:hints"/></message>',
    });
    await aliceSees(m2.id, (m) => m?.deleted === true);
    await roundTrip();
    assert.deepEqual(await alice.takeReceived(), [], "the fallback body was not relayed");

    const mine = await fromAlice("Alice keeps this");
    const forged = nextId("forged");
    juliet.send({
      op: "raw",
      xml: `<message to="${ALICE}" type="chat" id="${forged}" xmlns="jabber:client"><retract id="${mine.id}" xmlns="${NS.retract}"/></message>`,
    });
    assert.equal((await errorFor(forged)).condition, "forbidden");
    assert.equal((await aliceSees(mine.id, () => true))?.deleted, undefined);

    // Sori → XMPP: both forms; slixmpp reads the older one.
    const s = await fromAlice("곧 지울게요");
    await alice.deleteForEveryone(chat, s.id);
    const retraction = await juliet.next((e) => e.event === "feature" && e.feature === "retraction");
    assert.equal(retraction.of, s.id);
    const raw = await stanza((t) => child(t, "retract", NS.retract)?.attrs.id === s.id);
    assert.equal(child(raw, "apply-to", NS.fasten)?.attrs.id, s.id);
    assert.ok(child(raw, "fallback", NS.fallback), "the body is marked as a fallback");
  });

  it("replies: XEP-0461 with its XEP-0428 fallback quote become Sori replies, and back", async () => {
    // slixmpp's reply (its fallback in the draft namespace) to a Sori message.
    const s = await fromAlice(`원문 ${TRICKY}`);
    const replyId = nextId("reply");
    juliet.send({
      op: "reply",
      to: ALICE,
      id: replyId,
      of: s.id,
      author: ALICE,
      quote: `원문 ${TRICKY}`,
      body: "답장 <&> 🎉",
    });
    const [r1] = await receive(alice, 1, 15_000);
    assert.equal(r1!.text, "답장 <&> 🎉", "the quote is stripped, the rest byte-exact");
    assert.equal(r1!.replyTo?.id, s.id);
    assert.equal(r1!.replyTo?.mismatch, undefined);

    // Today's form (urn:xmpp:fallback:0), quoting Juliet's own earlier message by its stanza id.
    const jOwn = nextId("own");
    const own = await fromJuliet("내가 먼저 쓴 글", { id: jOwn });
    const quote = "> 내가 먼저 쓴 글\n";
    juliet.send({
      op: "raw",
      xml:
        `<message to="${ALICE}" type="chat" id="${nextId("reply")}" xmlns="jabber:client">` +
        `<body>${quote}and &lt;more&gt;</body><reply to="${JULIET}" id="${jOwn}" xmlns="${NS.reply}"/>` +
        `<fallback xmlns="${NS.fallback}" for="${NS.reply}"><body start="0" end="${[...quote].length}"/></fallback></message>`,
    });
    const [r2] = await receive(alice, 1, 15_000);
    assert.equal(r2!.text, "and <more>");
    assert.equal(r2!.replyTo?.id, own.id);

    // A reply to something the gateway never saw: the whole body, quote included, as plain text.
    juliet.send({
      op: "reply",
      to: ALICE,
      id: nextId("reply"),
      of: "no-such-id",
      author: ALICE,
      quote: "lost",
      body: "answer",
    });
    const [r3] = await receive(alice, 1, 15_000);
    assert.equal(r3!.text, "> lost\nanswer");
    assert.equal(r3!.replyTo, undefined);

    // Sori → XMPP: Alice answers Juliet's message; it names Juliet's stanza id and Juliet as author.
    const answer = await alice.sendText(chat, "응 <ok> & 🎉", { replyTo: own.id });
    const got = await stanza((t) => t.attrs.id === answer.id);
    const reply = child(got, "reply", NS.reply)!;
    assert.deepEqual(reply.attrs, { to: JULIET, id: jOwn });
    const range = child(child(got, "fallback", NS.fallback)!, "body")!;
    const body = [...child(got, "body")!.text];
    assert.equal(body.slice(Number(range.attrs.end)).join(""), "응 <ok> & 🎉");
    assert.equal(body.slice(0, Number(range.attrs.end)).join(""), quote);
    const seenBySlixmpp = await juliet.next(
      (e) => e.event === "feature" && e.feature === "reply" && e.id === answer.id,
    );
    assert.equal(seenBySlixmpp.of, jOwn);
  });

  it("reactions: XEP-0444 sets become Sori reactions, and Sori reactions become XEP-0444 sets", async () => {
    const s = await fromAlice("반응해 주세요");
    juliet.send({ op: "react", to: ALICE, of: s.id, reactions: ["👍", "❤️"] });
    await aliceSees(s.id, (m) => Object.keys(m?.reactions ?? {}).length === 2);
    assert.deepEqual((await aliceSees(s.id, () => true))?.reactions, { "👍": [julietId], "❤️": [julietId] });
    juliet.send({ op: "react", to: ALICE, of: s.id, reactions: ["❤️"] });
    await aliceSees(s.id, (m) => m?.reactions?.["👍"] === undefined);
    assert.deepEqual((await aliceSees(s.id, () => true))?.reactions, { "❤️": [julietId] });
    juliet.send({ op: "react", to: ALICE, of: s.id, reactions: [] });
    await aliceSees(s.id, (m) => Object.keys(m?.reactions ?? {}).length === 0);
    const unknown = nextId("react");
    juliet.send({
      op: "raw",
      xml: `<message to="${ALICE}" type="chat" id="${unknown}" xmlns="jabber:client"><reactions id="no-such-id" xmlns="${NS.reactions}"><reaction>👍</reaction></reactions></message>`,
    });
    assert.equal((await errorFor(unknown)).condition, "item-not-found");

    // Sori → XMPP: always the whole set, naming Juliet's stanza id.
    const jid = nextId("react-to-me");
    const m = await fromJuliet("react to me", { id: jid });
    const sets: string[][] = [];
    const nextSet = async (): Promise<string[]> => {
      const e = await juliet.next(
        (x) =>
          x.event === "feature" && x.feature === "reactions" && x.of === jid && !sets.includes(x.values!),
      );
      sets.push(e.values!);
      return e.values!;
    };
    await alice.react(chat, m.id, "🎉");
    assert.deepEqual(await nextSet(), ["🎉"]);
    await alice.react(chat, m.id, "👍");
    assert.deepEqual(await nextSet(), ["👍", "🎉"].sort());
    await alice.react(chat, m.id, "🎉");
    assert.deepEqual(await nextSet(), ["👍"]);
  });

  it("remembers which XMPP id is which Sori message across a gateway restart", async () => {
    const jid = nextId("before-restart");
    const m = await fromJuliet("before the restart", { id: jid });
    const s = await fromAlice("also before");
    await gateway.stop();
    gateway = await startGateway();
    juliet.send({ op: "correct", to: ALICE, id: nextId("fix"), of: jid, body: "고친 뒤" });
    await aliceSees(m.id, (x) => x?.text === "고친 뒤");
    juliet.send({ op: "react", to: ALICE, of: s.id, reactions: ["🎉"] });
    await aliceSees(s.id, (x) => x?.reactions?.["🎉"]?.[0] === julietId);
    await alice.react(chat, m.id, "👍");
    const set = await juliet.next((e) => e.event === "feature" && e.feature === "reactions" && e.of === jid);
    assert.deepEqual(set.values, ["👍"]);
  });

  it("answers features for chats that do not exist, and malformed ones, cleanly, and stays up", async () => {
    const nobody = nextId("nobody");
    juliet.send({ op: "correct", to: `nobody-here@${DOMAIN}`, id: nobody, of: "x", body: "hi" });
    assert.equal((await errorFor(nobody)).condition, "item-not-found");
    juliet.send({ op: "displayed", to: ALICE, of: "no-such-id" });
    juliet.send({ op: "chatstate", to: `nobody-here@${DOMAIN}`, state: "composing" });
    juliet.send({
      op: "raw",
      xml: `<message to="${ALICE}" type="chat" xmlns="jabber:client"><retract id="${"x".repeat(300)}" xmlns="${NS.retract}"/></message>`,
    });
    juliet.send({
      op: "raw",
      xml: `<message to="${ALICE}" type="chat" xmlns="jabber:client"><reactions xmlns="${NS.reactions}"><reaction>👍</reaction></reactions></message>`,
    });
    await roundTrip();
    assert.equal(gateway.stats().online, true);
  });

  it("logs no message text, ids or addresses", () => {
    const text = logs.join("\n");
    assert.doesNotMatch(text, /고쳤|읽어|juliet|alice@|typo|react-to-me|no-such-id/);
  });
});
