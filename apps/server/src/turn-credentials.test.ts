import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { turnCredentials } from "./turn-credentials.ts";

test("TURN credentials follow coturn's REST scheme and expire after the ttl", () => {
  const r = turnCredentials(
    { secret: "s3cret", urls: ["turn:127.0.0.1:3478"], ttlS: 600 },
    "user1",
    1_000_000,
  );
  assert.equal(r.ttlS, 600);
  const server = r.iceServers[0]!;
  assert.equal(server.username, "1600:user1");
  assert.equal(server.credential, createHmac("sha1", "s3cret").update("1600:user1").digest("base64"));
  assert.deepEqual(server.urls, ["turn:127.0.0.1:3478"]);
});

test("without TURN configured no servers are handed out", () => {
  assert.deepEqual(turnCredentials(undefined, "user1", 0), { iceServers: [], ttlS: 0 });
  assert.deepEqual(turnCredentials({ secret: "x", urls: [], ttlS: 60 }, "user1", 0), {
    iceServers: [],
    ttlS: 0,
  });
});
