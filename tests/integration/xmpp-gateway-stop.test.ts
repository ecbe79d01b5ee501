// Stopping the XMPP gateway in the middle of a burst of first messages from new XMPP senders: the
// stop waits only for the few identities being made, not for all of them, and nothing is lost: the
// next run hands on what the stopped one had taken but not passed to Sori yet (its journal).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ChatMessage, SoriClient } from "@sori/sdk";
import type { XmppGateway } from "@sori/xmpp-gateway";
import { newUser, suiteServer, waitFor } from "../helpers.ts";
import { type Prosody, rawComponent, startProsody } from "../xmpp-peers.ts";
import { startTestGateway } from "../xmpp-gateway-harness.ts";

const HOST = "xmpp.test";
const DOMAIN = "sori.test";
/** A second component the test writes stanzas from: many "remote" senders without many logins. */
const SENDERS_DOMAIN = "senders.test";
const SENDERS = 24;

describe("XMPP gateway stopped during a burst of new senders", () => {
  const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
  const dataDir = mkdtempSync(join(tmpdir(), "sori-xmpp-stop-"));
  let prosody: Prosody;
  let gatewayAccount: SoriClient;
  let alice: SoriClient;
  let gateway: XmppGateway | undefined;
  const logs: string[] = [];
  const made = (): number => logs.filter((l) => l.includes('"xmpp.identity_created"')).length;

  const startGateway = (): Promise<XmppGateway> =>
    startTestGateway({ client: gatewayAccount, xmpp: prosody, domain: DOMAIN, dataDir, logs });

  before(async () => {
    prosody = await startProsody({
      host: HOST,
      componentDomain: DOMAIN,
      users: {},
      extraComponents: [SENDERS_DOMAIN],
    });
    gatewayAccount = await newUser(server.url, "xmppgw");
    alice = await newUser(server.url, "alice");
  });
  after(async () => {
    await gateway?.stop();
    for (const c of [alice, gatewayAccount]) await c?.close();
    await prosody?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("stops without making every waiting identity, and the next run delivers each message once", async () => {
    gateway = await startGateway();
    const senders = await rawComponent(prosody.componentPort, SENDERS_DOMAIN, prosody.secret);
    try {
      for (let i = 0; i < SENDERS; i++)
        senders.write(
          `<message type="chat" from="s${i}@${SENDERS_DOMAIN}/r" to="alice@${DOMAIN}" id="m${i}"><body>first from s${i}</body></message>`,
        );
      const got: ChatMessage[] = [];
      const take = async (): Promise<ChatMessage[]> => {
        got.push(...(await alice.takeReceived()));
        return got;
      };
      // The first arrival: the gateway has taken the burst and is making identities for it.
      await waitFor(take, (l) => l.length > 0, 60_000, 50);
      const madeAtStop = made();
      await gateway.stop();
      gateway = undefined;
      const madeDuringStop = made() - madeAtStop;
      // Only those already being made (a handful at a time) are finished; the rest wait in the journal.
      assert.ok(madeDuringStop <= 4, `${madeDuringStop} identities were made after the stop began`);
      assert.ok(made() < SENDERS, `all ${SENDERS} identities were made before the stop returned`);

      gateway = await startGateway();
      const all = await waitFor(take, (l) => l.length >= SENDERS, 120_000, 100);
      await new Promise((r) => setTimeout(r, 500));
      await take();
      const texts = all.map((m) => m.text).sort();
      assert.deepEqual(
        texts,
        Array.from({ length: SENDERS }, (_, i) => `first from s${i}`).sort(),
        "every sender's message, each once",
      );
    } finally {
      senders.close();
    }
  });
});
