import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { startXmppGateway, type XmppGateway } from "@sori/xmpp-gateway";
import { newUser, receive, suiteServer, waitFor } from "../helpers.ts";
import { type Prosody, startProsody, type XmppEvent, XmppUser } from "../xmpp-peers.ts";

const HOST = "xmpp.test";
const DOMAIN = "sori.test";

const join_ = (room: string, nick: string): Record<string, unknown> => ({
  op: "raw",
  xml: `<presence xmlns="jabber:client" to="${room}/${nick}"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
});
const say = (room: string, id: string, body: string): Record<string, unknown> => ({
  op: "raw",
  xml: `<message xmlns="jabber:client" type="groupchat" to="${room}" id="${id}"><body>${body}</body></message>`,
});
const fromRoom = (e: XmppEvent, room: string): boolean => e.from?.split("/")[0] === room;

describe("XMPP gateway: a Sori group with XMPP members is a MUC room (Prosody, slixmpp)", () => {
  const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
  let prosody: Prosody;
  let gatewayAccount: SoriClient;
  let alice: SoriClient;
  let bob: SoriClient;
  let juliet: XmppUser;
  let romeo: XmppUser;
  let mercutio: XmppUser;
  let gateway: XmppGateway;
  let room = "";
  let groupId = "";
  const dataDir = mkdtempSync(join(tmpdir(), "sori-xmpp-groups-"));

  before(async () => {
    prosody = await startProsody({
      host: HOST,
      componentDomain: DOMAIN,
      users: { juliet: "juliet-pw-123", romeo: "romeo-pw-123", mercutio: "mercutio-pw-123" },
    });
    gatewayAccount = await newUser(server.url, "xmppgw");
    alice = await newUser(server.url, "alice");
    bob = await newUser(server.url, "bob");
    gateway = await startXmppGateway({
      client: gatewayAccount,
      service: `xmpp://127.0.0.1:${prosody.componentPort}`,
      domain: DOMAIN,
      secret: prosody.secret,
      dataDir,
      log: createLogger(process.env.SORI_TEST_LOG ? "debug" : "error", (l) => process.stderr.write(l)),
    });
    await gateway.online();
    juliet = await XmppUser.start(`juliet@${HOST}`, "juliet-pw-123", prosody.c2sPort);
    romeo = await XmppUser.start(`romeo@${HOST}`, "romeo-pw-123", prosody.c2sPort);
    mercutio = await XmppUser.start(`mercutio@${HOST}`, "mercutio-pw-123", prosody.c2sPort);
  });
  after(async () => {
    for (const u of [juliet, romeo, mercutio]) await u?.stop();
    await gateway?.stop();
    for (const c of [alice, bob, gatewayAccount]) await c?.close();
    await prosody?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("invites the XMPP members of a new Sori group to its room", async () => {
    const group = await alice.createGroup("Verona 🌹 <&>", [
      "bob",
      `xmpp:juliet@${HOST}`,
      `xmpp:romeo@${HOST}`,
    ]);
    groupId = group.id;
    const invite = await juliet.next((e) => e.invite !== undefined, 20_000);
    room = invite.invite!;
    assert.match(room, new RegExp(`^group\\+[0-9a-f]{32}@${DOMAIN.replace(".", "\\.")}$`));
    const romeoInvite = await romeo.next((e) => e.invite !== undefined, 20_000);
    assert.equal(romeoInvite.invite, room);
  });

  it("lets a member join: everyone's presence, their own with 110, then the group's name as subject", async () => {
    juliet.send(join_(room, "jules"));
    const self = await juliet.next(
      (e) => e.event === "presence" && fromRoom(e, room) && (e.codes ?? []).includes(110),
    );
    assert.equal(self.from, `${room}/juliet@${HOST}`, "the room names an XMPP member by address");
    assert.ok(self.codes!.includes(210), "and says it chose the nickname");
    const others = juliet.events
      .filter((e) => e.event === "presence" && fromRoom(e, room))
      .map((e) => e.from);
    for (const nick of ["alice", "bob", `romeo@${HOST}`]) assert.ok(others.includes(`${room}/${nick}`), nick);
    const subject = await juliet.next((e) => e.subject !== undefined && fromRoom(e, room));
    assert.equal(subject.subject, "Verona 🌹 <&>");
  });

  it("refuses a non-member alike for an existing room and one that does not exist", async () => {
    mercutio.send(join_(room, "merc"));
    const refused = await mercutio.next((e) => e.event === "presence" && e.type === "error");
    assert.equal(refused.error?.condition, "registration-required");
    const fake = `group+${"ab".repeat(16)}@${DOMAIN}`;
    mercutio.send(join_(fake, "merc"));
    const alsoRefused = await mercutio.next(
      (e) => e.event === "presence" && e.type === "error" && fromRoom(e, fake),
    );
    assert.equal(alsoRefused.error?.condition, "registration-required");
  });

  it("carries messages both ways: Sori members see the XMPP member, XMPP members see everyone", async () => {
    await alice.sendText(groupId, "hello all 안녕 <b>&</b>");
    const atJuliet = await juliet.next(
      (e) => e.type === "groupchat" && e.body === "hello all 안녕 <b>&</b>",
      15_000,
    );
    assert.equal(atJuliet.from, `${room}/alice`);
    const [atBob] = await receive(bob, 1, 15_000);
    assert.equal(atBob!.text, "hello all 안녕 <b>&</b>");

    juliet.send(say(room, "jg-1", "hi from juliet &amp; co"));
    const echo = await juliet.next((e) => e.type === "groupchat" && e.id === "jg-1", 15_000);
    assert.equal(echo.from, `${room}/juliet@${HOST}`, "the room reflects her own message");
    const got = await receive(alice, 1, 15_000);
    assert.equal(got[0]!.text, "hi from juliet & co");
    assert.equal(got[0]!.from, `xmpp:juliet@${HOST}`);
    assert.equal(got[0]!.chat, groupId);
    assert.equal((await receive(bob, 1, 15_000))[0]!.text, "hi from juliet & co");
  });

  it("holds what was said before an XMPP member joined and gives it to them when they join", async () => {
    // Romeo has not joined: the two messages so far wait for him.
    romeo.send(join_(room, "romeo"));
    const held = await waitFor(
      async () => romeo.messages().filter((e) => e.type === "groupchat"),
      (list) => list.length >= 2,
      15_000,
      100,
    );
    assert.deepEqual(
      held.map((e) => e.body),
      ["hello all 안녕 <b>&</b>", "hi from juliet & co"],
    );
    assert.equal(held[1]!.from, `${room}/juliet@${HOST}`);
  });

  it("refuses a message from someone not in the room", async () => {
    mercutio.send(say(room, "m-1", "let me in"));
    const error = await mercutio.next((e) => e.type === "error" && e.id === "m-1");
    assert.equal(error.error?.condition, "not-acceptable");
  });

  it("tells occupants when a Sori member leaves, and removes an XMPP member the group removed", async () => {
    await bob.leaveGroup(groupId);
    await juliet.next(
      (e) => e.event === "presence" && e.from === `${room}/bob` && e.type === "unavailable",
      20_000,
    );
    await alice.removeMember(groupId, `xmpp:romeo@${HOST}`);
    const kicked = await romeo.next(
      (e) => e.event === "presence" && e.type === "unavailable" && (e.codes ?? []).includes(321),
      20_000,
    );
    assert.equal(kicked.from, `${room}/romeo@${HOST}`);
    await juliet.next(
      (e) => e.event === "presence" && e.from === `${room}/romeo@${HOST}` && e.type === "unavailable",
      20_000,
    );
  });
});
