import { PROTOCOL_VERSION } from "@sori/protocol";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WebSocket } from "ws";
import { newUser, registerRaw, suiteServer } from "../helpers.ts";

/** Sends requests on a raw authenticated socket and returns each answer (deliveries are skipped). */
async function rawClient(
  url: string,
  token: string,
): Promise<{ request(frame: Record<string, unknown>): Promise<Record<string, unknown>>; close(): void }> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/api/v1/ws`);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let next = 1;
  const pending = new Map<number, (f: Record<string, unknown>) => void>();
  ws.on("message", (data) => {
    const f = JSON.parse(String(data)) as Record<string, unknown>;
    if (typeof f.re === "number") pending.get(f.re)?.(f);
  });
  const request = (frame: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => reject(new Error(`no answer to ${String(frame.type)}`)), 5000);
      pending.set(id, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      ws.send(JSON.stringify({ ...frame, id }));
    });
  const auth = await request({ type: "auth", v: PROTOCOL_VERSION, token });
  assert.equal(auth.type, "result");
  return { request, close: () => ws.terminate() };
}

describe("KeyPackages", () => {
  // A per-pair budget above the loop below, so that one claimer can make bob refill.
  const t = suiteServer(["--claims-per-minute", "60", "--claims-per-pair-per-hour", "100"]);

  it("a device whose KeyPackages run low refills them; claims are rate limited per account", async () => {
    const bob = await newUser(t.url, "bob");
    const { token } = await registerRaw(t.url, "claimer");
    const raw = await rawClient(t.url, token);
    try {
      const status = async (): Promise<number> => {
        const r = await raw.request({ type: "dir.users", usernames: ["bob"] });
        const deviceId = (r.result as { users: { devices: { deviceId: string }[] }[] }).users[0]!.devices[0]!
          .deviceId;
        const claim = await raw.request({ type: "kp.claim", deviceIds: [deviceId] });
        return claim.type === "result" ? (claim.result as { keyPackages: unknown[] }).keyPackages.length : -1;
      };
      // Bob uploaded 50; claim 45 so fewer than 10 remain: his client is told and tops up.
      for (let i = 0; i < 45; i++) assert.equal(await status(), 1);
      const deadline = Date.now() + 10_000;
      let remaining = 0;
      while (Date.now() < deadline) {
        remaining = await bob.keyPackageCount();
        if (remaining >= 10) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(remaining >= 10, `refilled to ${remaining}`);
      // 45 + dir lookups are not claims; claims so far: 45 of 60 allowed this minute.
      for (let i = 0; i < 15; i++) assert.equal(await status(), 1);
      const refused = await raw.request({ type: "kp.claim", deviceIds: [bob.deviceId] });
      assert.equal(refused.code, "rate-limited");
      assert.match(String(refused.message), /retry in \d+ s/);
      assert.ok(((refused.details as { retryAfterS: number }).retryAfterS ?? 0) > 0);
    } finally {
      raw.close();
      await bob.close();
    }
  });
});

describe("KeyPackages claimed by strangers (--claims-per-pair-per-hour)", () => {
  const t = suiteServer(["--claims-per-pair-per-hour", "5"]);

  it("a stranger claiming in a loop takes at most its budget of one-time KeyPackages, then the last-resort one", async () => {
    const bob = await newUser(t.url, "bob");
    const stranger = await rawClient(t.url, (await registerRaw(t.url, "stranger")).token);
    const friend = await rawClient(t.url, (await registerRaw(t.url, "friend")).token);
    try {
      const before = await bob.keyPackageCount();
      const claimBob = async (c: typeof stranger): Promise<string> => {
        const r = await c.request({ type: "kp.claim", deviceIds: [bob.deviceId] });
        assert.equal(r.type, "result", JSON.stringify(r));
        const [kp] = (r.result as { keyPackages: { keyPackage: string }[] }).keyPackages;
        return kp!.keyPackage;
      };
      const got: string[] = [];
      for (let i = 0; i < 30; i++) got.push(await claimBob(stranger));
      assert.equal(new Set(got.slice(0, 5)).size, 5, "five different one-time KeyPackages");
      const lastResort = got[5]!;
      assert.ok(!got.slice(0, 5).includes(lastResort));
      assert.deepEqual(got.slice(5), Array(25).fill(lastResort), "then always the same, reusable one");
      assert.equal(await bob.keyPackageCount(), before - 5, "only the budget was consumed");
      // Someone else adding bob meanwhile still gets a fresh one.
      const fresh = await claimBob(friend);
      assert.ok(!got.includes(fresh));
      assert.equal(await bob.keyPackageCount(), before - 6);
    } finally {
      stranger.close();
      friend.close();
      await bob.close();
    }
  });
});
