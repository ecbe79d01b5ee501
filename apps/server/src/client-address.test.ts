import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { clientAddress } from "./client-address.ts";

const req = (xff?: string | string[]): IncomingMessage =>
  ({
    socket: { remoteAddress: "127.0.0.1" },
    headers: xff === undefined ? {} : { "x-forwarded-for": xff },
  }) as IncomingMessage;

describe("clientAddress", () => {
  it("ignores X-Forwarded-For unless the server is told it sits behind a proxy", () => {
    assert.equal(clientAddress(req("203.0.113.9"), false), "127.0.0.1");
  });

  it("behind a proxy, takes the address the proxy appended (the last one), not what the client claimed", () => {
    assert.equal(clientAddress(req("1.1.1.1, 203.0.113.9"), true), "203.0.113.9");
    assert.equal(clientAddress(req(["1.1.1.1", "198.51.100.7"]), true), "198.51.100.7");
    assert.equal(clientAddress(req(), true), "127.0.0.1");
    assert.equal(clientAddress(req("x".repeat(100)), true), "127.0.0.1");
  });
});
