// A link to the XMPP server that dies without closing (a NAT that forgot it, a frozen server): the
// gateway notices by its keepalive ping going unanswered, ends the socket, connects again, and what a
// Sori user sent meanwhile reaches the XMPP user. Between the gateway and Prosody sits a TCP relay
// that the test can freeze: it then passes nothing either way and closes nothing.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import type { XmppGateway } from "@sori/xmpp-gateway";
import { newUser, suiteServer, waitFor } from "../helpers.ts";
import { type Prosody, startProsody, XmppUser } from "../xmpp-peers.ts";
import { startTestGateway } from "../xmpp-gateway-harness.ts";

const HOST = "xmpp.test";
const DOMAIN = "sori.test";

type FreezableRelay = { port: number; freeze(): void; thaw(): void; close(): Promise<void> };

/**
 * Relays TCP to `target`. Frozen, it carries nothing more on any link, open or opened meanwhile,
 * until thawed; links opened after the thaw carry again (those of the freeze stay dead).
 */
async function freezableRelay(target: number): Promise<FreezableRelay> {
  const links = new Set<{ frozen: boolean; down: Socket; up: Socket }>();
  let freezing = false;
  const server: Server = createServer((down) => {
    const up = connect(target, "127.0.0.1");
    const link = { frozen: freezing, down, up };
    links.add(link);
    down.on("data", (chunk) => !link.frozen && up.write(chunk));
    up.on("data", (chunk) => !link.frozen && down.write(chunk));
    // The far end's close always passes: the XMPP server may bind the component again only then.
    const end = (): void => {
      links.delete(link);
      down.destroy();
      up.destroy();
    };
    down.on("close", end).on("error", end);
    up.on("close", end).on("error", end);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => {
      freezing = true;
      for (const l of links) l.frozen = true;
    },
    thaw: () => {
      freezing = false;
    },
    close: async () => {
      for (const l of links) {
        l.down.destroy();
        l.up.destroy();
      }
      await new Promise((ok) => server.close(ok));
    },
  };
}

describe("XMPP gateway keepalive: a link that dies without closing", () => {
  const server = suiteServer(["--bridges", "xmpp=xmppgw"]);
  const dataDir = mkdtempSync(join(tmpdir(), "sori-xmpp-keepalive-"));
  let prosody: Prosody;
  let relay: FreezableRelay;
  let gatewayAccount: SoriClient;
  let alice: SoriClient;
  let juliet: XmppUser;
  let gateway: XmppGateway | undefined;
  const logs: string[] = [];
  const seen = (event: string): number => logs.filter((l) => l.includes(`"event":"${event}"`)).length;

  before(async () => {
    prosody = await startProsody({
      host: HOST,
      componentDomain: DOMAIN,
      users: { juliet: "juliet-password" },
    });
    relay = await freezableRelay(prosody.componentPort);
    gatewayAccount = await newUser(server.url, "xmppgw");
    alice = await newUser(server.url, "alice");
    gateway = await startTestGateway(
      { client: gatewayAccount, xmpp: prosody, port: relay.port, domain: DOMAIN, dataDir, logs },
      { keepalive: { quietMs: 400, answerMs: 800 }, reconnect: { firstMs: 200, maxMs: 1000 } },
    );
    juliet = await XmppUser.start(`juliet@${HOST}`, "juliet-password", prosody.c2sPort);
  });
  after(async () => {
    await juliet?.stop();
    await gateway?.stop();
    await alice?.close();
    await gatewayAccount?.close();
    await relay?.close();
    await prosody?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps a quiet, healthy link: its pings are answered and nothing reconnects", async () => {
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(seen("xmpp.link_dead"), 0);
    assert.equal(seen("xmpp.online"), 1);
  });

  it("ends a frozen link, connects again, and delivers what was sent meanwhile", async () => {
    await alice.sendText(`xmpp:juliet@${HOST}`, "before the freeze");
    await juliet.next((e) => e.event === "message" && e.body === "before the freeze", 15_000);
    relay.freeze();
    await alice.sendText(`xmpp:juliet@${HOST}`, "during the freeze");
    await waitFor(
      async () => seen("xmpp.link_dead"),
      (n) => n >= 1,
      15_000,
    );
    // Tries to connect again while frozen open TCP but never a stream: they must be given up too.
    await new Promise((r) => setTimeout(r, 2000));
    relay.thaw();
    await waitFor(
      async () => seen("xmpp.online"),
      (n) => n >= 2,
      20_000,
    );
    const got = await juliet.next((e) => e.event === "message" && e.body === "during the freeze", 20_000);
    assert.equal(got.from?.split("/")[0], `alice@${DOMAIN}`);
    assert.equal(
      juliet.messages().filter((e) => e.body === "during the freeze").length,
      1,
      "passed on once, not lost and not twice",
    );
  });
});
