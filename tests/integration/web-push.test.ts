import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import {
  newDevice,
  newUser,
  receive,
  reopen,
  signInWaiting,
  startTestServer,
  type TestServer,
} from "../helpers.ts";
import {
  browserSubscription,
  type BrowserSubscription,
  decryptPush,
  type MockPushService,
  type ReceivedPush,
  startMockPushService,
  verifyVapid,
} from "../mock-push-service.ts";
import { enableCalls, nextIncoming, sleep, waitFor, waitState } from "./call-helpers.ts";

const CONTACT = "mailto:ops@sori.example";

describe("Web Push wake-ups (a mock push service on 127.0.0.1)", () => {
  let t: TestServer;
  let push: MockPushService;
  const clients: SoriClient[] = [];
  const track = (c: SoriClient): SoriClient => {
    clients.push(c);
    return c;
  };

  before(async () => {
    push = await startMockPushService();
    t = await startTestServer([
      "--push-hosts",
      "127.0.0.1",
      "--push-loopback-http",
      "true",
      "--push-contact",
      CONTACT,
    ]);
  });
  after(async () => {
    for (const c of clients) await c.close();
    await t.stop();
    await push.close();
  });

  /** Two users with a direct chat both have; the second subscribed at `path` of the mock. */
  async function pair(
    a: string,
    b: string,
    path: string,
  ): Promise<[SoriClient, SoriClient, BrowserSubscription]> {
    const sender = track(await newUser(t.url, a));
    const device = track(await newUser(t.url, b));
    await sender.sendText(b, "hi");
    await receive(device, 1);
    const sub = browserSubscription(push.endpoint(path));
    await device.push.subscribe(sub.json);
    return [sender, device, sub];
  }

  /** Closes a device and waits until the server has noticed it is gone. */
  async function offline(device: SoriClient): Promise<void> {
    const id = device.deviceId;
    await device.close();
    await waitFor("the server to see it disconnected", () =>
      t.logs.some((l) => l.includes('"device.disconnected"') && l.includes(id)),
    );
  }

  const to = (path: string): ReceivedPush[] => push.received.filter((r) => r.path === path);
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
  };

  it("wakes an offline device with a signed, encrypted push that says only 'message'; a burst is one push; online devices get none", async () => {
    const [alice, bob, sub] = await pair("wp_alice", "wp_bob", "/bob");
    const status = await bob.push.status();
    assert.equal(status.subscription?.host, "127.0.0.1");
    assert.ok(status.vapidPublicKey && Buffer.from(status.vapidPublicKey, "base64url").length === 65);
    assert.equal(await bob.push.vapidPublicKey(), status.vapidPublicKey);

    // Online: delivered over the WebSocket, and nothing goes to the push service.
    for (let i = 0; i < 3; i++) await alice.sendText("wp_bob", `while online ${i}`);
    await receive(bob, 3);
    await sleep(500);
    assert.equal(to("/bob").length, 0, "an online device is not pushed");

    await offline(bob);
    const secret = "the walrus is Paul";
    for (let i = 0; i < 20; i++) await alice.sendText("wp_bob", `${secret} ${i}`);
    await waitFor("a push", () => to("/bob").length > 0);
    await sleep(1500);
    const pushes = to("/bob");
    assert.ok(pushes.length >= 1 && pushes.length <= 2, `${pushes.length} pushes for a burst of 20`);

    assert.ok((await metric("sori_push_sent_total")) >= 1);
    const [first] = pushes;
    assert.equal(first!.headers["content-encoding"], "aes128gcm");
    assert.equal(first!.headers["content-type"], "application/octet-stream");
    assert.equal(first!.headers.ttl, "86400");
    assert.equal(first!.headers.urgency, "normal");
    assert.equal(first!.headers.topic, "message");
    const { k, claims } = verifyVapid(first!.headers.authorization);
    assert.equal(k, status.vapidPublicKey, "signed with the key the device subscribed with");
    assert.equal(claims.aud, push.origin);
    assert.equal(claims.sub, CONTACT);
    const nowS = Date.now() / 1000;
    assert.ok(claims.exp > nowS && claims.exp <= nowS + 24 * 3600, `exp ${claims.exp}`);

    const text = decryptPush(first!.body, sub).toString();
    assert.deepEqual(JSON.parse(text), { kind: "message" });
    for (const leak of [secret, "wp_alice", "wp_bob", alice.userId, bob.userId, alice.deviceId, bob.deviceId])
      assert.ok(!text.includes(leak), `the payload carries ${leak}`);
    const chat = (await alice.chats())[0]!.id;
    assert.ok(!text.includes(chat));

    // Nothing of the endpoint's path, the keys or the payload is in the server's log: only the host.
    const log = t.logs.join("\n");
    assert.ok(log.includes('"push.subscribed"') && log.includes('"host":"127.0.0.1"'));
    for (const secretPart of ["/bob", sub.json.keys.auth, sub.json.keys.p256dh])
      assert.ok(!log.includes(secretPart), secretPart);

    // Connecting fetches everything, and the next message after it wakes the device again.
    const bob2 = track(await reopen(bob));
    const got = await receive(bob2, 20);
    assert.equal(got.filter((m) => m.text?.startsWith(secret)).length, 20);
    await offline(bob2);
    const before = to("/bob").length;
    await alice.sendText("wp_bob", "after it connected");
    await waitFor("a push after the device connected", () => to("/bob").length > before);
  });

  it("a 410 from the push service removes the subscription: the next message sends nothing", async () => {
    push.answer("/gone", { status: 410 });
    const [dave, carol] = await pair("wp_dave", "wp_carol", "/gone");
    await offline(carol);
    await dave.sendText("wp_carol", "one");
    await waitFor("the push", () => to("/gone").length === 1);
    await waitFor(
      "the subscription dropped",
      async () => (await t.server.store.pushSubscriptions([carol.deviceId])).length === 0,
    );
    assert.ok(t.logs.some((l) => l.includes('"push.subscription_gone"') && l.includes('"status":410')));
    assert.equal(await metric("sori_push_gone_total"), 1);

    // Connected and gone again, the device would be woken by the next message if it were subscribed.
    const carol2 = track(await reopen(carol));
    await receive(carol2, 1);
    assert.equal((await carol2.push.status()).subscription, null);
    await offline(carol2);
    await dave.sendText("wp_carol", "two");
    await sleep(1500);
    assert.equal(to("/gone").length, 1, "nothing is sent to a subscription the push service said is gone");
  });

  it("a 429 with Retry-After is tried again after that long", async () => {
    push.answer("/busy", { status: 429, headers: { "retry-after": "2" } }, { status: 201 });
    const [frank, erin] = await pair("wp_frank", "wp_erin", "/busy");
    await offline(erin);
    await frank.sendText("wp_erin", "are you there");
    await waitFor("the retry", () => to("/busy").length === 2, 15_000);
    const [a, b] = to("/busy");
    assert.ok(b!.at - a!.at >= 1900, `retried after ${b!.at - a!.at} ms`);
    await waitFor("the push counted as sent", () =>
      t.logs.some((l) => l.includes('"push.sent"') && l.includes('"attempts":2')),
    );
  });

  it("a call wakes the callee's offline device with urgency high, and the woken device gets the ring", async () => {
    const [ann, ben] = await pair("wp_ann", "wp_ben", "/ben");
    enableCalls(ann);
    await offline(ben);
    const call = await ann.calls.start("wp_ben");
    await waitFor("a call push", () => to("/ben").some((r) => r.headers.urgency === "high"));
    const wake = to("/ben").find((r) => r.headers.urgency === "high")!;
    assert.equal(wake.headers.ttl, "60");
    assert.equal(wake.headers.topic, "call");
    // The service worker connects: the ring that came while it was away is there.
    const sub = (await t.server.store.pushSubscriptions([ben.deviceId]))[0]!;
    assert.ok(sub);
    const ben2 = track(await reopen(ben));
    enableCalls(ben2);
    const incoming = await nextIncoming(ben2);
    assert.equal(incoming.id, call.id);
    assert.equal(incoming.peer.username, "wp_ann");
    call.hangup();
  });

  it("a phone woken after the callee answered on another device learns it was answered elsewhere", async () => {
    const [cal, phone] = await pair("wp_cal", "wp_dee", "/dee-phone");
    const laptop = track(await newDevice(t.url, phone, "laptop"));
    const m = await cal.sendText("wp_dee", "for both devices");
    await waitFor("the laptop in the chat", async () => (await laptop.history(m.chat)).length > 0);
    enableCalls(cal);
    enableCalls(laptop);
    await offline(phone);
    const ringing = nextIncoming(laptop);
    const call = await cal.calls.start("wp_dee");
    await waitFor("a call push to the phone", () =>
      to("/dee-phone").some((r) => r.headers.urgency === "high"),
    );
    await (await ringing).accept();
    // The caller has the answer: the laptop's accept went by while the phone was offline.
    await waitFor("the caller to get the answer", () => call.state !== "ringing-out");
    const phone2 = track(await reopen(phone));
    enableCalls(phone2);
    const late = await nextIncoming(phone2);
    assert.equal(late.id, call.id);
    await waitState(late, "ended");
    assert.equal(late.endReason, "answered-elsewhere");
    call.hangup();
  });

  it("a person's own messages do not wake their other devices; a sign-in waiting for approval does; unsubscribing stops it", async () => {
    const gil = track(await newUser(t.url, "wp_gil"));
    const hal = track(await newUser(t.url, "wp_hal"));
    await gil.sendText("wp_hal", "hi");
    await receive(hal, 1);
    await hal.push.subscribe(browserSubscription(push.endpoint("/hal")).json);
    const hal2 = track(await newDevice(t.url, hal));
    const both = await gil.sendText("wp_hal", "for both of hal's devices");
    await receive(hal, 1);
    await waitFor("hal's second device in the chat", async () => (await hal2.history(both.chat)).length > 0);
    await offline(hal);
    // gil offline too: his device's receipts would come from another account, and wake hal's.
    await gil.close();
    await hal2.sendText(both.chat, "from hal's other device");
    await sleep(1000);
    assert.equal(to("/hal").length, 0, "hal's own message does not wake hal's other device");
    const gil2 = track(await reopen(gil));
    await receive(gil2, 1);
    await gil2.sendText("wp_hal", "from gil");
    await waitFor("a push for gil's messages", () => to("/hal").length === 1);

    const hal1 = track(await reopen(hal));
    await waitFor("hal's device has caught up", async () =>
      (await hal1.history(both.chat)).some((m) => m.text === "from gil"),
    );
    await offline(hal1);
    await sleep(500);
    assert.equal(to("/hal").length, 1, "nothing new for hal before the sign-in");
    const waiting = track(await signInWaiting(t.url, "wp_hal", "third"));
    await waitFor("a push for the sign-in", () => to("/hal").length === 2);
    await waiting.close();

    const hal1again = track(await reopen(hal1));
    assert.equal(await hal1again.push.unsubscribe(), true);
    assert.equal(await hal1again.push.unsubscribe(), false);
    await offline(hal1again);
    await gil2.sendText("wp_hal", "no wake");
    await sleep(1000);
    assert.equal(to("/hal").length, 2, "an unsubscribed device is not woken");
  });
});
