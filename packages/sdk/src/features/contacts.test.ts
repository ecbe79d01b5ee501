import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClientEvents } from "../client-events.ts";
import type { ChatSummary } from "../groups/chat-list.ts";
import type { Content } from "../messages/content.ts";
import { MemoryStorage } from "../storage/memory-storage.ts";
import { TypedEmitter } from "../util/typed-emitter.ts";
import { nextRelation } from "./contact-rules.ts";
import { type ContactChange, Contacts } from "./contacts.ts";

const CHAT = "direct-chat";
type Person = { userId: string; username: string };
const ANN: Person = { userId: "ann-id", username: "ann" };
const BOB: Person = { userId: "bob-id", username: "bob" };

/**
 * Devices of ann and bob sharing one direct chat: what one sends reaches every other device at once,
 * in the order sent, as the server would deliver it (each device's own sends do not come back).
 */
class FakeChat {
  readonly devices: Device[] = [];
  /** Every contact op sent, in order, with its sender. */
  readonly sent: { from: string; op: string }[] = [];
  /** Follow-up tasks (the SDK's `later`), run when the test settles them. */
  readonly later: (() => Promise<void>)[] = [];

  device(person: Person): Device {
    const d = new Device(this, person);
    this.devices.push(d);
    return d;
  }

  async deliver(from: Device, content: Content): Promise<void> {
    if (content.type !== "contact") return;
    this.sent.push({ from: from.person.username, op: content.op });
    for (const d of this.devices)
      if (d !== from) await d.contacts.onContent(CHAT, from.person.userId, content);
  }

  async settle(): Promise<void> {
    while (this.later.length > 0) await this.later.shift()!();
  }
}

class Device {
  readonly person: Person;
  readonly changes: ContactChange[] = [];
  readonly contacts: Contacts;

  constructor(chat: FakeChat, person: Person) {
    this.person = person;
    const events = new TypedEmitter<ClientEvents>();
    events.on("contact", (c) => this.changes.push(c));
    const other = person === ANN ? BOB : ANN;
    const summary = { id: CHAT, kind: "direct", name: other.username } as ChatSummary;
    this.contacts = new Contacts(
      {
        storage: new MemoryStorage(),
        events,
        // Contacts reads only who this device's user is from the enrolment.
        enrolment: {
          ...person,
          deviceId: "d",
          serverUrl: "",
          token: "",
          signaturePublicKey: "",
          signaturePrivateKey: "",
        },
        later: (task) => void chat.later.push(task),
      },
      {
        chatFor: async (username) => {
          if (username !== other.username) throw new Error(`no user ${username}`);
          return summary;
        },
        directPeer: async () => other,
        send: (_chat, content) => chat.deliver(this, content),
        noted: async () => undefined,
      },
    );
  }

  async state(): Promise<string> {
    return (await this.contacts.list())[0]?.state ?? "none";
  }
}

describe("contact rules", () => {
  it("an answer answers only a request of the other side", () => {
    assert.equal(nextRelation(undefined, "accept", "me"), undefined);
    assert.equal(nextRelation(undefined, "accept", "them"), undefined);
    const asked = { state: "asked-them", by: "me" } as const;
    // This user cannot accept their own request; the other side can.
    assert.equal(nextRelation(asked, "accept", "me"), asked);
    assert.deepEqual(nextRelation(asked, "accept", "them"), { state: "accepted", by: "them" });
    assert.deepEqual(nextRelation(asked, "decline", "them"), { state: "declined", by: "them" });
  });

  it("requests that cross make contacts; a withdrawal cannot cancel the other side's request", () => {
    const theyAsked = { state: "asked-me", by: "them" } as const;
    assert.deepEqual(nextRelation(theyAsked, "request", "me"), { state: "accepted", by: "me" });
    assert.equal(nextRelation(theyAsked, "withdraw", "me"), theyAsked);
    assert.equal(nextRelation(theyAsked, "withdraw", "them"), undefined);
    assert.equal(nextRelation({ state: "accepted", by: "me" }, "withdraw", "them"), undefined);
  });
});

describe("contacts between two people's devices", () => {
  it("a request reaches the other side and this user's other devices; accepting makes both contacts", async () => {
    const chat = new FakeChat();
    const ann = chat.device(ANN);
    const ann2 = chat.device(ANN);
    const bob = chat.device(BOB);
    const sent = await ann.contacts.request("bob");
    assert.equal(sent.state, "asked-them");
    assert.equal(await ann2.state(), "asked-them", "ann's other device knows");
    assert.equal(await bob.state(), "asked-me");
    assert.deepEqual(
      bob.changes.map((c) => [c.username, c.state, c.by]),
      [["ann", "asked-me", "them"]],
    );
    const accepted = await bob.contacts.accept("ann");
    assert.equal(accepted.state, "accepted");
    for (const d of [ann, ann2, bob]) assert.equal(await d.state(), "accepted");
    assert.deepEqual(
      ann2.changes.map((c) => c.state),
      ["asked-them", "accepted"],
    );
  });

  it("accepts only what was asked: no request, or one's own, cannot be accepted", async () => {
    const chat = new FakeChat();
    const ann = chat.device(ANN);
    const bob = chat.device(BOB);
    await assert.rejects(bob.contacts.accept("ann"), { code: "not-asked" });
    await assert.rejects(bob.contacts.decline("ann"), { code: "not-asked" });
    await ann.contacts.request("bob");
    // Ann's own request is not hers to accept.
    await assert.rejects(ann.contacts.accept("bob"), { code: "not-asked" });
    // A forged accept arriving from ann's side (no request of bob's) changes nothing at bob.
    await bob.contacts.onContent(CHAT, ANN.userId, {
      v: 1,
      type: "contact",
      id: "x",
      op: "accept",
      sentAt: 0,
    });
    assert.equal(await bob.state(), "asked-me");
    assert.equal(chat.sent.length, 1, "nothing was sent for the refused answers");
  });

  it("a repeated request while pending is one request", async () => {
    const chat = new FakeChat();
    const ann = chat.device(ANN);
    const bob = chat.device(BOB);
    await ann.contacts.request("bob");
    await ann.contacts.request("bob");
    await Promise.all([ann.contacts.request("bob"), ann.contacts.request("bob")]);
    assert.deepEqual(chat.sent, [{ from: "ann", op: "request" }]);
    assert.equal(bob.changes.length, 1, "bob is told once");
    // The same request arriving again (a redelivery) is still the one request.
    await bob.contacts.onContent(CHAT, ANN.userId, {
      v: 1,
      type: "contact",
      id: "y",
      op: "request",
      sentAt: 0,
    });
    assert.equal(bob.changes.length, 1);
  });

  it("decline, then a new request works, and so does one the other way", async () => {
    const chat = new FakeChat();
    const ann = chat.device(ANN);
    const bob = chat.device(BOB);
    await ann.contacts.request("bob");
    const declined = await bob.contacts.decline("ann");
    assert.deepEqual([declined.state, declined.by], ["declined", "me"]);
    const atAnn = (await ann.contacts.get("bob"))!;
    assert.deepEqual([atAnn.state, atAnn.by], ["declined", "them"]);
    // Declining again is nothing new; accepting now is not possible (nothing asked).
    await bob.contacts.decline("ann");
    await assert.rejects(bob.contacts.accept("ann"), { code: "not-asked" });
    await ann.contacts.request("bob");
    assert.equal(await bob.state(), "asked-me");
    await bob.contacts.decline("ann");
    // Bob changes his mind and asks ann himself.
    await bob.contacts.request("ann");
    assert.equal(await ann.state(), "asked-me");
    await ann.contacts.accept("bob");
    assert.equal(await bob.state(), "accepted");
  });

  it("asking someone who asked is accepting; withdrawing ends it on both sides", async () => {
    const chat = new FakeChat();
    const ann = chat.device(ANN);
    const bob = chat.device(BOB);
    await ann.contacts.request("bob");
    const both = await bob.contacts.request("ann");
    assert.equal(both.state, "accepted");
    assert.deepEqual(chat.sent.at(-1), { from: "bob", op: "accept" });
    assert.equal(await ann.state(), "accepted");
    await ann.contacts.remove("bob");
    assert.equal(await ann.state(), "none");
    assert.equal(await bob.state(), "none");
    assert.equal(bob.changes.at(-1)?.state, "none");
    // Withdrawing a pending request takes it back.
    await ann.contacts.request("bob");
    await ann.contacts.remove("bob");
    assert.equal(await bob.state(), "none");
  });

  it("a request from someone already accepted (a device of theirs that lost track) is answered again", async () => {
    const chat = new FakeChat();
    const ann = chat.device(ANN);
    const bob = chat.device(BOB);
    await ann.contacts.request("bob");
    await bob.contacts.accept("ann");
    const annLater = chat.device(ANN);
    await annLater.contacts.request("bob");
    assert.equal(await annLater.state(), "asked-them");
    await chat.settle();
    assert.equal(await annLater.state(), "accepted");
    assert.equal(await bob.state(), "accepted");
    assert.equal(await ann.state(), "accepted");
  });

  it("ignores contact contents from someone who is not the chat's other person", async () => {
    const chat = new FakeChat();
    const bob = chat.device(BOB);
    await bob.contacts.onContent(CHAT, "mallory-id", {
      v: 1,
      type: "contact",
      id: "z",
      op: "request",
      sentAt: 0,
    });
    assert.equal(await bob.state(), "none");
    await assert.rejects(bob.contacts.request("bob"), { code: "bad-request" });
  });
});
