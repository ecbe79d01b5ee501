// A trunk over TLS (sips:) whose certificate a private CA signed: the gateway checks the trunk's
// certificate against the trunk's host name, with the operator's CA (tlsTrust, --sip-tls-ca) besides
// Node's. Without that CA the handshake fails and the caller hears "unreachable"; with it the INVITE
// arrives over TLS and the trunk's answer (486 here) reaches the caller as busy.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { after, before, describe, it } from "node:test";
import type { SoriClient } from "@sori/sdk";
import { createLogger } from "@sori/server";
import { type SipGateway, startSipGateway } from "@sori/sip-gateway";
import { weriftPlatform } from "@sori/werift-calls";
import { newUser, startTestServer, type TestServer } from "../helpers.ts";
import { waitState } from "./call-helpers.ts";

/** A TLS "trunk" that answers every INVITE 486 Busy Here and notes what it got. */
async function busyTlsTrunk(
  cert: string,
  key: string,
): Promise<{ port: number; invites: string[]; handshakeErrors: number; close(): Promise<void> }> {
  const invites: string[] = [];
  let handshakeErrors = 0;
  const sockets = new Set<TLSSocket>();
  const server: Server = createServer({ cert, key }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let buffered = "";
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffered.slice(0, end);
        const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? "0");
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        if (!head.startsWith("INVITE ")) continue;
        invites.push(head);
        const header = (name: string): string[] =>
          head.split("\r\n").filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
        socket.write(
          [
            "SIP/2.0 486 Busy Here",
            ...header("Via"),
            ...header("From"),
            `${header("To")[0]};tag=busytrunk`,
            ...header("Call-ID"),
            ...header("CSeq"),
            "Content-Length: 0",
            "",
            "",
          ].join("\r\n"),
        );
      }
    });
  });
  server.on("tlsClientError", () => handshakeErrors++);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    port: (server.address() as AddressInfo).port,
    invites,
    get handshakeErrors() {
      return handshakeErrors;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((ok) => server.close(ok));
    },
  };
}

describe("SIP gateway: a trunk over TLS signed by a private CA", () => {
  const dir = mkdtempSync(join(tmpdir(), "sori-sip-trunk-tls-"));
  let t: TestServer;
  let gw: SoriClient;
  let dave: SoriClient;
  let trunk: Awaited<ReturnType<typeof busyTlsTrunk>>;
  let gateway: SipGateway | undefined;
  let cert = "";
  let key = "";
  const logs: string[] = [];

  const startGateway = (trust: string | undefined): Promise<SipGateway> =>
    startSipGateway({
      client: gw,
      listen: [
        { transport: "udp", address: "127.0.0.1", port: 0 },
        { transport: "tls", address: "127.0.0.1", port: 0 },
      ],
      tls: { cert, key },
      ...(trust ? { tlsTrust: trust } : {}),
      mediaAddress: "127.0.0.1",
      rtpPorts: { min: 47_000, max: 47_998 },
      loopback: true,
      outbound: ["tls_dave"],
      trunk: { uri: `sips:localhost:${trunk.port}` },
      log: createLogger("info", (l) => logs.push(l)),
    });

  before(async () => {
    // The trunk's certificate names the host the trunk URI has (localhost), as a trunk's would.
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-days", "1"],
        ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      ],
      { stdio: "ignore", timeout: 10_000 },
    );
    cert = readFileSync(join(dir, "cert.pem"), "utf8");
    key = readFileSync(join(dir, "key.pem"), "utf8");
    t = await startTestServer(["--gateways", "tls_gw"]);
    gw = await newUser(t.url, "tls_gw");
    dave = await newUser(t.url, "tls_dave");
    dave.calls.configure({ platform: weriftPlatform({ loopback: true }).platform, useServerTurn: false });
    trunk = await busyTlsTrunk(cert, key);
  });
  after(async () => {
    await gateway?.stop();
    await trunk?.close();
    await dave?.close();
    await gw?.close();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses the trunk's certificate without the operator's CA: the caller hears unreachable", async () => {
    gateway = await startGateway(undefined);
    const call = await dave.calls.start("tls_gw", { via: { network: "sip", uri: "tel:+821012345678" } });
    await waitState(call, "ended", 40_000);
    assert.equal(call.endReason, "unreachable");
    assert.equal(trunk.invites.length, 0, "no INVITE crossed an unverified connection");
    assert.ok(trunk.handshakeErrors > 0, "the gateway tried, and the handshake failed");
    await gateway.stop();
    gateway = undefined;
  });

  it("trusts it with the CA, checks it against the trunk's name, and the trunk's busy reaches the caller", async () => {
    gateway = await startGateway(cert);
    const call = await dave.calls.start("tls_gw", { via: { network: "sip", uri: "tel:+821012345678" } });
    await waitState(call, "ended", 20_000);
    assert.equal(call.endReason, "busy");
    assert.equal(trunk.invites.length, 1);
    assert.match(trunk.invites[0]!, /^INVITE sips:\+821012345678@localhost:\d+ SIP\/2\.0/);
    assert.match(trunk.invites[0]!, /^Via: SIP\/2\.0\/TLS /m);
  });
});
