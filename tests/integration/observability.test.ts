import { PROTOCOL_VERSION } from "@sori/protocol";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { newUser, receive, startTestServer, suiteServer, type TestServer } from "../helpers.ts";

/** Every sample line of a Prometheus text exposition, as name{labels} → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
    assert.ok(m, `not a valid exposition line: ${JSON.stringify(line)}`);
    out.set(m[1]!, Number(m[2]!.replace("Inf", "Infinity")));
  }
  return out;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return samples(await res.text());
}

for (const storeThread of ["on", "off"]) {
  describe(`observability (store thread ${storeThread})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(["--store-thread", storeThread]);
    });
    after(async () => {
      await t.stop();
    });

    it("counts connections, messages, deliveries and request latency in /metrics", async () => {
      const before = await scrape(t.url);
      assert.equal(before.get("sori_devices_connected"), 0);
      assert.equal(before.get("sori_store_up"), 1);
      const alice = await newUser(t.url, "obs_alice");
      const bob = await newUser(t.url, "obs_bob");
      try {
        await alice.sendText("obs_bob", "one");
        await alice.sendText("obs_bob", "two");
        assert.equal((await receive(bob, 2)).length, 2);
        const m = await scrape(t.url);
        assert.equal(m.get("sori_devices_connected"), 2);
        assert.equal(m.get("sori_connections"), 2);
        assert.ok(m.get("sori_connections_opened_total")! >= 2);
        assert.ok(m.get("sori_messages_in_total")! >= 2, "two sends counted");
        // The Welcome, the two messages and the KeyPackage notices all go out as deliveries.
        assert.ok(m.get("sori_messages_out_total")! >= 3, "deliveries counted");
        assert.ok(m.get('sori_request_duration_seconds_count{type="send"}')! >= 2);
        assert.equal(
          m.get('sori_request_duration_seconds_bucket{type="send",le="+Inf"}'),
          m.get('sori_request_duration_seconds_count{type="send"}'),
        );
        assert.ok(m.get("sori_store_writes_committed")! > 0);
        assert.ok(m.get("sori_store_commit_duration_seconds_count")! > 0);
        assert.ok(m.get("sori_queue_entries")! >= 0);
        assert.equal(m.get("sori_store_writable"), 1);
        assert.ok(m.get("process_resident_memory_bytes")! > 1_000_000);
      } finally {
        await alice.close();
        await bob.close();
      }
      // Closing is seen by the server shortly after.
      const deadline = Date.now() + 5000;
      while ((await scrape(t.url)).get("sori_devices_connected") !== 0) {
        assert.ok(Date.now() < deadline, "connections still counted 5 s after closing");
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    it("/healthz checks the store and answers 503 once it stops answering", async () => {
      const ok = await fetch(`${t.url}/healthz`);
      assert.equal(ok.status, 200);
      assert.deepEqual(
        { ...((await ok.json()) as Record<string, unknown>), version: "v" },
        { ok: true, version: "v", protocol: PROTOCOL_VERSION, store: "ok" },
      );
      await t.server.store.close();
      const down = await fetch(`${t.url}/healthz`);
      assert.equal(down.status, 503);
      const body = (await down.json()) as { ok: boolean; store: string };
      assert.equal(body.ok, false);
      assert.equal(body.store, "unavailable");
      assert.equal((await scrape(t.url)).get("sori_store_up"), 0);
    });
  });
}

describe("metrics switched off", () => {
  const t = suiteServer(["--metrics", "off"]);

  it("answers /metrics with a JSON 404", async () => {
    const res = await fetch(`${t.url}/metrics`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "not-found");
  });
});
