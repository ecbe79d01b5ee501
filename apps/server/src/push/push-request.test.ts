import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { PushClient } from "./push-request.ts";

describe("the push request", () => {
  let port = 0;
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(429, { "retry-after": "7" }).end("slow down");
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const push = (host: string) => ({
    url: new URL(`http://${host}:${port}/endpoint`),
    headers: { ttl: "60" },
    body: Buffer.from("x"),
  });

  it("reads the status and Retry-After of the answer", async () => {
    const client = new PushClient({ publicOnly: false });
    try {
      assert.deepEqual(await client.post(push("127.0.0.1")), { status: 429, retryAfterMs: 7000 });
    } finally {
      client.close();
    }
  });

  it("with --push-hosts any, never connects to a name that resolves to a private address", async () => {
    const client = new PushClient({ publicOnly: true });
    const before = hits;
    try {
      assert.deepEqual(await client.post(push("localhost")), { failed: "EPRIVATE" });
      assert.equal(hits, before, "nothing reached the loopback server");
    } finally {
      client.close();
    }
  });
});
