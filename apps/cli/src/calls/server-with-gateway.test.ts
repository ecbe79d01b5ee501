import assert from "node:assert/strict";
import { test } from "node:test";
import { splitGatewayArgs, wantsGateway } from "./server-with-gateway.ts";

test("sori server's --sip-… options go to the gateway under its own names; the rest stay the server's", () => {
  const argv = [
    "--port",
    "8080",
    "--sip-listen=udp:0.0.0.0:5060",
    "--data",
    "./d",
    "--sip-rtp-ports",
    "40000-40100",
    "--sip-loopback",
    "--sip-trunk",
    "sip:trunk.example",
    "--sip-account",
    "desk_gw",
  ];
  assert.ok(wantsGateway(argv));
  assert.deepEqual(splitGatewayArgs(argv), {
    server: ["--port", "8080", "--data", "./d"],
    gateway: [
      "--listen",
      "udp:0.0.0.0:5060",
      "--rtp-ports",
      "40000-40100",
      "--loopback",
      "--sip-trunk",
      "sip:trunk.example",
    ],
    account: "desk_gw",
  });
  assert.ok(!wantsGateway(["--port", "8080"]));
  assert.throws(() => splitGatewayArgs(["--sip-listen"]), /needs a value/);
  assert.throws(
    () => splitGatewayArgs(["--sip-listen", "udp:1.2.3.4:5", "--sip-account", "a b"]),
    /takes a username/,
  );
});
