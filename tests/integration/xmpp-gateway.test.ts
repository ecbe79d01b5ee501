import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import type { XmppGateway } from "@sori/xmpp-gateway";
import { soriRunner } from "../cli-runner.ts";
import { newUser, PASSWORD, receive, suiteServer, waitFor } from "../helpers.ts";
import { type Prosody, rawComponent, startProsody, XmppUser } from "../xmpp-peers.ts";
import { startTestGateway } from "../xmpp-gateway-harness.ts";

const HOST = "xmpp.test";
const DOMAIN = "sori.test";
/** Korean, emoji, XML's special characters and a CDATA end: all must arrive byte for byte. */
const TRICKY = "안녕하세요 <b>&amp;</b> ]]> \"quoted\" 'single' 🎉 tab\tend";

describe("XMPP gateway with Debian's Prosody and a slixmpp user", () => {
  const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
  let prosody: Prosody;
  let gatewayAccount: SoriClient;
  let alice: SoriClient;
  let juliet: XmppUser;
  let romeo: XmppUser;
  let gateway: XmppGateway;
  const logs: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), "sori-xmpp-gw-"));

  const startGateway = (): Promise<XmppGateway> =>
    startTestGateway({ client: gatewayAccount, xmpp: prosody, domain: DOMAIN, dataDir, logs });

  before(async () => {
    prosody = await startProsody({
      host: HOST,
      componentDomain: DOMAIN,
      users: { juliet: "juliet-password", romeo: "romeo-password" },
      extraComponents: ["crowd.test"],
    });
    gatewayAccount = await newUser(server.url, "xmppgw");
    alice = await newUser(server.url, "alice");
    gateway = await startGateway();
    juliet = await XmppUser.start(`juliet@${HOST}`, "juliet-password", prosody.c2sPort);
    romeo = await XmppUser.start(`romeo@${HOST}`, "romeo-password", prosody.c2sPort);
  });
  after(async () => {
    await juliet?.stop();
    await romeo?.stop();
    await gateway?.stop();
    await alice?.close();
    await gatewayAccount?.close();
    await prosody?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("brings an XMPP user's message to a Sori user byte for byte, marked bridged, with a receipt once processed", async () => {
    juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: TRICKY, id: "j-1", receipt: true });
    const [m] = await receive(alice, 1, 15_000);
    assert.equal(m!.text, TRICKY);
    assert.equal(m!.from, `xmpp:juliet@${HOST}`);
    assert.equal((await alice.findUser(`xmpp:juliet@${HOST}`))?.bridged, "xmpp");
    const receipt = await juliet.next((e) => e.event === "receipt" && e.id === "j-1", 15_000);
    assert.equal(receipt.from?.split("/")[0], `alice@${DOMAIN}`);
  });

  it("brings a Sori user's answer to the XMPP user, from alice@<gateway domain>", async () => {
    await alice.sendText(`xmpp:juliet@${HOST}`, `re: ${TRICKY}`);
    const got = await juliet.next((e) => e.event === "message" && e.body === `re: ${TRICKY}`, 15_000);
    assert.equal(got.from?.split("/")[0], `alice@${DOMAIN}`);
    assert.equal(got.type, "chat");
  });

  it("reaches an XMPP user nobody bridged yet: the gateway makes the identity on demand", async () => {
    await alice.sendText(`xmpp:romeo@${HOST}`, "wherefore art thou");
    const got = await romeo.next((e) => e.event === "message" && e.body === "wherefore art thou", 25_000);
    assert.equal(got.from?.split("/")[0], `alice@${DOMAIN}`);
  });

  it("shows a Sori sender the XMPP server's refusal: the message to an address that does not exist fails", async () => {
    const sent = await alice.sendText(`xmpp:nobody@${HOST}`, "is anyone there?");
    const failed = await waitFor(
      () => alice.message(sent.chat, sent.id),
      (m) => m?.status === "failed",
      25_000,
    );
    assert.equal(failed!.undelivered?.length, 1);
    assert.equal(failed!.undelivered![0]!.username, `xmpp:nobody@${HOST}`);
    // Prosody's words, or the gateway's plain ones for the condition it gave.
    assert.match(failed!.undelivered![0]!.reason, /\S/);
    assert.doesNotMatch(failed!.undelivered![0]!.reason, /undefined-condition/);
    assert.ok(logs.some((l) => l.includes('"xmpp.bounced"')));
  });

  it("answers OMEMO with an explicit error and relays nothing", async () => {
    const before = (await alice.takeReceived()).length;
    juliet.send({
      op: "raw",
      xml:
        `<message to="alice@${DOMAIN}" type="chat" id="omemo-1" xmlns="jabber:client">` +
        '<encrypted xmlns="eu.siacs.conversations.axolotl"><header sid="1"><iv>AAAA</iv></header><payload>AAAA</payload></encrypted>' +
        "<body>I sent you an OMEMO encrypted message but your client doesn't seem to support that.</body></message>",
    });
    const error = await juliet.next((e) => e.event === "message" && e.type === "error" && e.id === "omemo-1");
    assert.match(error.error!.text ?? "", /cannot read OMEMO/);
    assert.equal(error.error!.condition, "not-acceptable");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await alice.takeReceived()).length, 0, `nothing relayed (had ${before} before)`);
  });

  it("drops a resent stanza id, and answers unknown Sori users exactly as known ones (silence)", async () => {
    juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: "once", id: "dup-1" });
    juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: "once", id: "dup-1" });
    juliet.send({ op: "send", to: `nobody-here@${DOMAIN}`, body: "anyone?", id: "unknown-1" });
    juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: "after", id: "dup-2" });
    const got = await receive(alice, 2, 15_000);
    assert.deepEqual(
      got.map((m) => m.text),
      ["once", "after"],
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await alice.takeReceived(), []);
    assert.equal(
      juliet.events.some((e) => e.id === "unknown-1"),
      false,
      "no answer for an unknown user",
    );
  });

  it("carries 40 messages each way, each seen exactly once and in order", async () => {
    for (let i = 0; i < 40; i++)
      juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: `j${i}`, id: `burst-${i}` });
    for (let i = 0; i < 40; i++) await alice.sendText(`xmpp:juliet@${HOST}`, `a${i}`);
    const toAlice = await receive(alice, 40, 30_000);
    assert.deepEqual(
      toAlice.map((m) => m.text),
      Array.from({ length: 40 }, (_, i) => `j${i}`),
    );
    await waitFor(
      async () => juliet.messages().filter((e) => /^a\d+$/.test(e.body ?? "")).length,
      (n) => n >= 40,
      30_000,
      100,
    );
    await new Promise((r) => setTimeout(r, 500));
    const toJuliet = juliet.messages().filter((e) => /^a\d+$/.test(e.body ?? ""));
    assert.deepEqual(
      toJuliet.map((e) => e.body),
      Array.from({ length: 40 }, (_, i) => `a${i}`),
    );
  });

  it("keeps what Sori users send while the gateway is down and delivers it once it is back", async () => {
    await gateway.stop();
    const seenBefore = juliet.messages().length;
    for (let i = 0; i < 3; i++) await alice.sendText(`xmpp:juliet@${HOST}`, `while down ${i}`);
    gateway = await startGateway();
    await waitFor(
      async () => juliet.messages().filter((e) => e.body?.startsWith("while down")).length,
      (n) => n >= 3,
      20_000,
      100,
    );
    await new Promise((r) => setTimeout(r, 500));
    const after = juliet
      .messages()
      .slice(seenBefore)
      .filter((e) => e.body?.startsWith("while down"));
    assert.deepEqual(
      after.map((e) => e.body),
      ["while down 0", "while down 1", "while down 2"],
    );
  });

  it("works from the CLI: sori send xmpp:<jid>, sori receive and sori chats with the via-XMPP label", async () => {
    const sori = soriRunner(PASSWORD, 60_000);
    const profile = ["--profile", join(dataDir, "carol-cli")];
    const reg = await sori(["register", "carol", "--server", server.url, ...profile]);
    assert.equal(reg.code, 0, reg.stderr);
    const sent = await sori(["send", `xmpp:juliet@${HOST}`, "from the command line", ...profile]);
    assert.equal(sent.code, 0, sent.stderr);
    await juliet.next((e) => e.event === "message" && e.body === "from the command line", 15_000);
    juliet.send({ op: "send", to: `carol@${DOMAIN}`, body: "answer to carol", id: "to-carol-1" });
    const got = await sori(["receive", "--wait", "15", "--json", ...profile]);
    assert.equal(got.code, 0, got.stderr);
    const lines = got.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { from: string; text: string });
    assert.ok(
      lines.some((l) => l.from === `xmpp:juliet@${HOST}` && l.text === "answer to carol"),
      got.stdout,
    );
    const chats = await sori(["chats", ...profile]);
    assert.match(chats.stdout, /via XMPP: not end-to-end encrypted past the gateway/);
  });

  it("brings the first messages of 30 new addresses at once, each making its identity", async () => {
    const crowd = await rawComponent(prosody.componentPort, "crowd.test", prosody.secret);
    try {
      for (let i = 0; i < 30; i++)
        crowd.write(
          `<message type="chat" from="u${i}@crowd.test/x" to="alice@${DOMAIN}" id="c-${i}"><body>crowd ${i}</body></message>`,
        );
      const got = await receive(alice, 30, 60_000);
      assert.deepEqual(
        got.map((m) => m.text).sort(),
        Array.from({ length: 30 }, (_, i) => `crowd ${i}`).sort(),
      );
    } finally {
      crowd.close();
    }
  });

  it("says delivered only once the XMPP user's client sent its receipt (XEP-0184), not when the gateway has it", async () => {
    // Juliet's slixmpp answers receipts by itself.
    const toJuliet = await alice.sendText(`xmpp:juliet@${HOST}`, "a receipt, please");
    await juliet.next((e) => e.event === "message" && e.body === "a receipt, please", 15_000);
    await waitFor(
      () => alice.message(toJuliet.chat, toJuliet.id),
      (m) => m?.status === "delivered",
      15_000,
    );
    // A client that sends no receipt: here the test's own component, which answers nothing.
    const quiet = await rawComponent(prosody.componentPort, "crowd.test", prosody.secret);
    try {
      const sent = await alice.sendText("xmpp:quiet@crowd.test", "no receipt from this client");
      const idle = await waitFor(
        () => alice.message(sent.chat, sent.id),
        (m) => m?.status === "sent",
        30_000,
      );
      assert.equal(idle?.status, "sent");
      // The gateway's device has it well before this; its own receipt would have arrived by now.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await alice.message(sent.chat, sent.id))?.status, "sent");
      quiet.write(
        `<message from="quiet@crowd.test/x" to="alice@${DOMAIN}" id="rcpt-1"><received xmlns="urn:xmpp:receipts" id="${sent.id}"/></message>`,
      );
      await waitFor(
        () => alice.message(sent.chat, sent.id),
        (m) => m?.status === "delivered",
        15_000,
      );
    } finally {
      quiet.close();
    }
  });

  it("logs no message text or addresses", () => {
    const text = logs.join("\n");
    assert.doesNotMatch(text, /안녕|wherefore|juliet|romeo|while down/);
  });
});
