import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ChatMessage, SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { startXmppGateway, type XmppGateway } from "@sori/xmpp-gateway";
import { newUser, suiteServer, waitFor } from "../helpers.ts";
import { startEjabberd, startProsody, type XmppServer, XmppUser } from "../xmpp-peers.ts";

const HOST = "xmpp.test";
const DOMAIN = "sori.test";
/** Korean, emoji, XML's special characters and a CDATA end: all must arrive byte for byte. */
const TRICKY = "안녕하세요 <b>&amp;</b> ]]> \"quoted\" 'single' 🎉 tab\tend";
const SERVERS: [string, typeof startProsody][] = [
  ["Debian's Prosody", startProsody],
  ["Debian's ejabberd", startEjabberd],
];

/** The core 1:1 exchange, the same against each XMPP server the README gives a configuration for. */
for (const [name, start] of SERVERS) {
  describe(`XMPP gateway with ${name}: the core 1:1 exchange`, () => {
    const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
    let dataDir = "";
    const logs: string[] = [];
    const atAlice: ChatMessage[] = [];
    let xmpp: XmppServer;
    let gatewayAccount: SoriClient;
    let alice: SoriClient;
    let gateway: XmppGateway;
    let juliet: XmppUser;

    const aliceHas = (ok: (all: ChatMessage[]) => boolean, timeoutMs = 15_000): Promise<ChatMessage[]> =>
      waitFor(
        async () => {
          atAlice.push(...(await alice.takeReceived()));
          return atAlice;
        },
        ok,
        timeoutMs,
        50,
      );

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "sori-xmpp-servers-"));
      // Offline storage: what the gateway passes on while Juliet logs in again after a restart is kept.
      xmpp = await start({
        host: HOST,
        componentDomain: DOMAIN,
        users: { juliet: "juliet-password" },
        modules: ["offline"],
      });
      gatewayAccount = await newUser(server.url, "xmppgw");
      alice = await newUser(server.url, "alice");
      gateway = await startXmppGateway({
        client: gatewayAccount,
        service: `xmpp://127.0.0.1:${xmpp.componentPort}`,
        domain: DOMAIN,
        secret: xmpp.secret,
        dataDir,
        log: createLogger("info", (l) => logs.push(l)),
        reconnect: { firstMs: 250, maxMs: 2000 },
      });
      await gateway.online();
      juliet = await XmppUser.start(`juliet@${HOST}`, "juliet-password", xmpp.c2sPort);
    });
    after(async () => {
      await juliet?.stop();
      await gateway?.stop();
      await alice?.close();
      await gatewayAccount?.close();
      await xmpp?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it("XMPP → Sori: byte for byte, from the bridged identity, with a receipt once Alice's device has it", async () => {
      juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: TRICKY, id: "core-1", receipt: true });
      const [m] = await aliceHas((l) => l.length >= 1);
      assert.equal(m!.text, TRICKY);
      assert.equal(m!.from, `xmpp:juliet@${HOST}`);
      assert.equal((await alice.findUser(`xmpp:juliet@${HOST}`))?.bridged, "xmpp");
      const receipt = await juliet.next((e) => e.event === "receipt" && e.id === "core-1", 15_000);
      assert.equal(receipt.from?.split("/")[0], `alice@${DOMAIN}`);
    });

    it("Sori → XMPP: byte for byte, from alice@<gateway domain>, a chat message asking for a receipt", async () => {
      await alice.sendText(`xmpp:juliet@${HOST}`, `re: ${TRICKY}`);
      const got = await juliet.next((e) => e.event === "message" && e.body === `re: ${TRICKY}`, 15_000);
      assert.equal(got.from?.split("/")[0], `alice@${DOMAIN}`);
      assert.equal(got.type, "chat");
      assert.equal(got.receiptRequested, true);
    });

    it("20 messages each way, each once and in order", async () => {
      for (let i = 0; i < 20; i++)
        juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: `j${i} ${TRICKY}`, id: `b-${i}` });
      for (let i = 0; i < 20; i++) await alice.sendText(`xmpp:juliet@${HOST}`, `a${i} ${TRICKY}`);
      await aliceHas((l) => l.filter((m) => /^j\d+ /.test(m.text ?? "")).length >= 20, 30_000);
      await waitFor(
        async () => juliet.messages().filter((e) => /^a\d+ /.test(e.body ?? "")).length,
        (n) => n >= 20,
        30_000,
        100,
      );
      await new Promise((r) => setTimeout(r, 500));
      atAlice.push(...(await alice.takeReceived()));
      const expect = (p: string): string[] => Array.from({ length: 20 }, (_, i) => `${p}${i} ${TRICKY}`);
      assert.deepEqual(
        atAlice.map((m) => m.text).filter((t) => /^j\d+ /.test(t ?? "")),
        expect("j"),
      );
      assert.deepEqual(
        juliet
          .messages()
          .map((e) => e.body)
          .filter((b) => /^a\d+ /.test(b ?? "")),
        expect("a"),
      );
      assert.doesNotMatch(logs.join("\n"), /안녕|juliet|alice@/);
    });

    it("connects again after the XMPP server restarts; what Alice sent while it was down arrives once", async () => {
      const online = (): number => logs.filter((l) => l.includes('"event":"xmpp.online"')).length;
      const before = online();
      await juliet.stop();
      await xmpp.restart(async () => {
        await alice.sendText(`xmpp:juliet@${HOST}`, "sent while the XMPP server was down");
      });
      await waitFor(
        async () => online(),
        (n) => n > before,
        60_000,
        100,
      );
      assert.ok(logs.some((l) => l.includes('"event":"xmpp.reconnect_scheduled"')));
      juliet = await XmppUser.start(`juliet@${HOST}`, "juliet-password", xmpp.c2sPort);
      await juliet.next(
        (e) => e.event === "message" && e.body === "sent while the XMPP server was down",
        30_000,
      );
      juliet.send({ op: "send", to: `alice@${DOMAIN}`, body: "back after the restart", id: "after-restart" });
      await aliceHas((l) => l.some((m) => m.text === "back after the restart"), 20_000);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(
        juliet.messages().filter((e) => e.body === "sent while the XMPP server was down").length,
        1,
      );
    });
  });
}
