// Presence subscriptions through the XMPP gateway are contact requests the Sori user decides, both
// ways, with Debian's Prosody and a slixmpp user; nothing of a Sori user's presence reaches anyone
// before they accepted, and unknown Sori users are as silent as undecided ones.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ContactChange, SoriClient } from "@sori/sdk";
import type { XmppGateway } from "@sori/xmpp-gateway";
import { newUser, suiteServer, waitFor } from "../helpers.ts";
import { type Prosody, startProsody, XmppUser } from "../xmpp-peers.ts";
import { startTestGateway } from "../xmpp-gateway-harness.ts";

const HOST = "xmpp.test";
const DOMAIN = "sori.test";
/** How long "nothing arrives" is watched for, once the gateway has provably handled what came before. */
const QUIET_MS = 1500;

const quiet = (): Promise<void> => new Promise((r) => setTimeout(r, QUIET_MS));

describe("XMPP presence subscriptions as Sori contact requests (Prosody, slixmpp)", () => {
  const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
  let prosody: Prosody;
  let gatewayAccount: SoriClient;
  let alice: SoriClient;
  let bob: SoriClient;
  let carol: SoriClient;
  let juliet: XmppUser;
  let romeo: XmppUser;
  let gateway: XmppGateway;
  const changes = new Map<string, ContactChange[]>();
  const dataDir = mkdtempSync(join(tmpdir(), "sori-xmpp-contacts-"));
  const logs: string[] = [];

  /** The contact change `client` hears about `username` reaching `state`. */
  const changeAt = (client: SoriClient, username: string, state: string): Promise<ContactChange[]> =>
    waitFor(
      async () => changes.get(client.username) ?? [],
      (list) => list.some((c) => c.username === username && c.state === state),
      15_000,
    );

  const startGateway = (): Promise<XmppGateway> =>
    startTestGateway({ client: gatewayAccount, xmpp: prosody, domain: DOMAIN, dataDir, logs });

  before(async () => {
    prosody = await startProsody({
      host: HOST,
      componentDomain: DOMAIN,
      users: { juliet: "juliet-password", romeo: "romeo-password" },
    });
    gatewayAccount = await newUser(server.url, "xmppgw");
    for (const name of ["alice", "bob", "carol"]) {
      const c = await newUser(server.url, name);
      changes.set(name, []);
      c.on("contact", (change) => changes.get(name)!.push(change));
      if (name === "alice") alice = c;
      else if (name === "bob") bob = c;
      else carol = c;
    }
    gateway = await startGateway();
    juliet = await XmppUser.start(`juliet@${HOST}`, "juliet-password", prosody.c2sPort);
    romeo = await XmppUser.start(`romeo@${HOST}`, "romeo-password", prosody.c2sPort);
  });
  after(async () => {
    await juliet?.stop();
    await romeo?.stop();
    await gateway?.stop();
    for (const c of [alice, bob, carol, gatewayAccount]) await c?.close();
    await prosody?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("an XMPP subscribe is a contact request; nothing of Alice's reaches Juliet until she accepts, then she is subscribed and sees Alice available", async () => {
    const aliceJid = `alice@${DOMAIN}`;
    juliet.presence(aliceJid, "subscribe");
    await changeAt(alice, `xmpp:juliet@${HOST}`, "asked-me");
    const request = (await alice.contacts.get(`xmpp:juliet@${HOST}`))!;
    assert.deepEqual([request.state, request.by], ["asked-me", "them"]);
    // Asking again, probing, and a directed presence: still nothing back while Alice has not decided.
    juliet.presence(aliceJid, "subscribe");
    juliet.presence(aliceJid, "probe");
    juliet.presence(aliceJid, "available");
    await quiet();
    assert.deepEqual(juliet.presencesFrom(aliceJid), [], "no presence or answer before Alice decides");
    assert.equal(
      changes.get("alice")!.filter((c) => c.state === "asked-me").length,
      1,
      "the repeated subscribe is the same request",
    );

    await alice.contacts.accept(`xmpp:juliet@${HOST}`);
    await juliet.next(
      (e) => e.event === "presence" && e.from === aliceJid && e.type === "subscribed",
      15_000,
    );
    await juliet.next((e) => e.event === "presence" && e.from === aliceJid && e.type === "available", 15_000);
    // Now a probe is answered with Alice's presence.
    const before = juliet.presencesFrom(aliceJid).length;
    juliet.presence(aliceJid, "probe");
    await waitFor(
      async () => juliet.presencesFrom(aliceJid).length,
      (n) => n > before,
      15_000,
    );
    assert.equal(juliet.presencesFrom(aliceJid).at(-1)?.type, "available");
  });

  it("a declined subscribe is answered unsubscribed, and Romeo never sees Alice's presence", async () => {
    const aliceJid = `alice@${DOMAIN}`;
    romeo.presence(aliceJid, "subscribe");
    await changeAt(alice, `xmpp:romeo@${HOST}`, "asked-me");
    await alice.contacts.decline(`xmpp:romeo@${HOST}`);
    await romeo.next(
      (e) => e.event === "presence" && e.from === aliceJid && e.type === "unsubscribed",
      15_000,
    );
    romeo.presence(aliceJid, "probe");
    await quiet();
    assert.deepEqual(
      romeo.presencesFrom(aliceJid).map((e) => e.type),
      ["unsubscribed"],
      "nothing but the refusal, not even to a probe",
    );
  });

  it("a Sori user's request reaches the XMPP user as subscribe; their subscribed is the identity's accept", async () => {
    const bobJid = `bob@${DOMAIN}`;
    const sent = await bob.contacts.request(`xmpp:juliet@${HOST}`);
    assert.equal(sent.state, "asked-them");
    await juliet.next((e) => e.event === "presence" && e.from === bobJid && e.type === "subscribe", 25_000);
    juliet.presence(bobJid, "subscribed");
    await changeAt(bob, `xmpp:juliet@${HOST}`, "accepted");
    const contact = (await bob.contacts.get(`xmpp:juliet@${HOST}`))!;
    assert.deepEqual([contact.state, contact.by], ["accepted", "them"]);
    // Contacts see each other: Juliet gets Bob's presence too, and asking for it is approved at once.
    juliet.presence(bobJid, "subscribe");
    await juliet.next((e) => e.event === "presence" && e.from === bobJid && e.type === "subscribed", 15_000);
    await juliet.next((e) => e.event === "presence" && e.from === bobJid && e.type === "available", 15_000);
  });

  it("an XMPP user's unsubscribed declines a Sori user's request", async () => {
    const bobJid = `bob@${DOMAIN}`;
    await bob.contacts.request(`xmpp:romeo@${HOST}`);
    await romeo.next((e) => e.event === "presence" && e.from === bobJid && e.type === "subscribe", 25_000);
    romeo.presence(bobJid, "unsubscribed");
    await changeAt(bob, `xmpp:romeo@${HOST}`, "declined");
    const contact = (await bob.contacts.get(`xmpp:romeo@${HOST}`))!;
    assert.deepEqual([contact.state, contact.by], ["declined", "them"]);
    // Bob's own answer to nobody: Romeo's "subscribed" now answers no request and changes nothing.
    romeo.presence(bobJid, "subscribed");
    await quiet();
    assert.equal((await bob.contacts.get(`xmpp:romeo@${HOST}`))?.state, "declined");
  });

  it("an unknown Sori user gets the same silence as one who has not decided, and unsubscribe withdraws", async () => {
    const nobody = `nobody_here@${DOMAIN}`;
    const carolJid = `carol@${DOMAIN}`;
    // Romeo's steps are handled in order: once Carol hears of his request, the ones to nobody are done.
    romeo.presence(nobody, "subscribe");
    romeo.presence(nobody, "probe");
    romeo.presence(carolJid, "subscribe");
    romeo.presence(carolJid, "probe");
    await changeAt(carol, `xmpp:romeo@${HOST}`, "asked-me");
    await quiet();
    assert.deepEqual(romeo.presencesFrom(nobody), []);
    assert.deepEqual(romeo.presencesFrom(carolJid), []);
    assert.equal(await gatewayAccount.findUser("nobody_here"), undefined);

    romeo.presence(carolJid, "unsubscribe");
    await changeAt(carol, `xmpp:romeo@${HOST}`, "none");
    assert.equal(await carol.contacts.get(`xmpp:romeo@${HOST}`), undefined);
    assert.deepEqual(romeo.presencesFrom(carolJid), [], "withdrawn without a word from Carol's side");
  });

  it("a decision made while the gateway is down reaches the XMPP user when it is back, and nothing is told twice", async () => {
    const carolJid = `carol@${DOMAIN}`;
    juliet.presence(carolJid, "subscribe");
    await changeAt(carol, `xmpp:juliet@${HOST}`, "asked-me");
    const seen = juliet.events.length;
    await gateway.stop();
    await carol.contacts.accept(`xmpp:juliet@${HOST}`);
    gateway = await startGateway();
    await juliet.next(
      (e) => e.event === "presence" && e.from === carolJid && e.type === "subscribed",
      15_000,
    );
    await quiet();
    const since = juliet.events.slice(seen).filter((e) => e.event === "presence");
    assert.deepEqual(
      since.filter((e) => e.type === "subscribe" || e.type === "subscribed").map((e) => e.from),
      [carolJid],
      "what was told before the restart (Alice's and Bob's answers, Bob's request) is not told again",
    );
  });

  it("logs no addresses or names", () => {
    const text = logs.join("\n");
    for (const secret of ["juliet", "romeo", "alice", "carol", "nobody_here"])
      assert.ok(!text.includes(secret), `no ${secret} in the gateway's logs`);
  });
});
