// Contact requests through a real server, inside MLS: the request makes the direct chat, the other
// person's devices and the requester's own other device learn it, and nothing of it shows as a message.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ContactChange, SoriClient } from "@sori/sdk";
import { newDevice, newUser, receive, suiteServer, waitFor } from "../helpers.ts";

describe("contacts", () => {
  const server = suiteServer();
  let ann: SoriClient;
  let ann2: SoriClient;
  let bob: SoriClient;
  const bobChanges: ContactChange[] = [];

  before(async () => {
    ann = await newUser(server.url, "cont_ann");
    ann2 = await newDevice(server.url, ann);
    bob = await newUser(server.url, "cont_bob");
    bob.on("contact", (c) => bobChanges.push(c));
  });
  after(async () => {
    await ann?.close();
    await ann2?.close();
    await bob?.close();
  });

  const stateAt = (client: SoriClient, username: string): Promise<string> =>
    client.contacts.get(username).then((c) => c?.state ?? "none");

  it("a request creates the direct chat and reaches the other person and the requester's other device", async () => {
    assert.equal(await ann.findChat("cont_bob"), undefined);
    const sent = await ann.contacts.request("cont_bob");
    assert.equal(sent.state, "asked-them");
    assert.ok(await ann.findChat("cont_bob"), "the direct chat was made");
    await waitFor(
      () => stateAt(bob, "cont_ann"),
      (s) => s === "asked-me",
    );
    await waitFor(
      () => stateAt(ann2, "cont_bob"),
      (s) => s === "asked-them",
    );
    assert.deepEqual(
      bobChanges.map((c) => [c.username, c.state]),
      [["cont_ann", "asked-me"]],
    );
    // Asking again while it waits is the same request: bob hears nothing more.
    await ann2.contacts.request("cont_bob");
    await ann.contacts.request("cont_bob");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(bobChanges.length, 1);
  });

  it("accepting reaches every device; each step is a line of the chat's history", async () => {
    await bob.contacts.accept("cont_ann");
    for (const d of [ann, ann2])
      await waitFor(
        () => stateAt(d, "cont_bob"),
        (s) => s === "accepted",
      );
    assert.deepEqual(
      (await ann.contacts.list()).map((c) => [c.username, c.state]),
      [["cont_bob", "accepted"]],
    );
    await bob.sendText("cont_ann", "hello, contact");
    // What bob did comes to ann like a message: his answer, then the text.
    const got = await receive(ann, 2);
    assert.deepEqual(
      got.map((m) => m.system?.event ?? m.text),
      ["contact", "hello, contact"],
    );
    // The steps are lines of the chat's history (none saying messages went missing), then the text.
    const chat = (await ann.findChat("cont_bob"))!;
    const history = await ann.history(chat.id);
    assert.deepEqual(
      history.map((h) => (h.system?.event === "contact" ? `${h.system.state} by ${h.system.by}` : h.text)),
      ["asked-them by me", "accepted by them", "hello, contact"],
    );
  });

  it("what the other person did comes with what was received, once", async () => {
    const received = await bob.takeReceived();
    assert.deepEqual(
      received.map((m) => m.system),
      [{ event: "contact", userId: ann.userId, username: "cont_ann", state: "asked-me", by: "them" }],
    );
    assert.deepEqual(await bob.takeReceived(), []);
  });

  it("declined, then asked again, and withdrawn", async () => {
    await ann.contacts.remove("cont_bob");
    await waitFor(
      () => stateAt(bob, "cont_ann"),
      (s) => s === "none",
    );
    await bob.contacts.request("cont_ann");
    await waitFor(
      () => stateAt(ann2, "cont_bob"),
      (s) => s === "asked-me",
    );
    // Answered on ann's other device: both of hers and bob learn it.
    const declined = await ann2.contacts.decline("cont_bob");
    assert.equal(declined.state, "declined");
    await waitFor(
      () => bob.contacts.get("cont_ann"),
      (c) => c?.state === "declined" && c.by === "them",
    );
    await waitFor(
      () => stateAt(ann, "cont_bob"),
      (s) => s === "declined",
    );
    await assert.rejects(ann.contacts.accept("cont_bob"), { code: "not-asked" });
    await bob.contacts.request("cont_ann");
    await waitFor(
      () => stateAt(ann, "cont_bob"),
      (s) => s === "asked-me",
    );
  });
});
