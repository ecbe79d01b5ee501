import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { rawAuth, type RawAccount, registerRaw, suiteServer } from "../helpers.ts";
import { authedSocket, rawSocket } from "../raw-socket.ts";

const SECRET = "sori-test-turn-secret-0123456789";

type Credentials = { iceServers: { urls: string[]; username: string; credential: string }[]; ttlS: number };

describe("TURN credentials", () => {
  // No coturn is needed: the server only signs credentials for it.
  const t = suiteServer(["--turn-secret", SECRET, "--turn-url", "turn:127.0.0.1:3478"]);

  const credentials = async (account: RawAccount): Promise<Credentials> => {
    const s = await authedSocket(t.url, account.token);
    try {
      const r = await s.call({ type: "turn.credentials" });
      assert.equal(r.type, "result", JSON.stringify(r));
      return r.result as Credentials;
    } finally {
      s.close();
    }
  };

  it("last an hour by default and name the account in coturn's REST scheme", async () => {
    const lee = await registerRaw(t.url, "lee");
    const { iceServers, ttlS } = await credentials(lee);
    assert.equal(ttlS, 3600);
    const [server] = iceServers;
    const [expiry, user] = server!.username.split(":");
    assert.equal(user, lee.userId);
    assert.ok(Math.abs(Number(expiry) - (Date.now() / 1000 + 3600)) < 10, `expires at ${expiry}`);
    assert.equal(server!.credential, createHmac("sha1", SECRET).update(server!.username).digest("base64"));
  });

  it("are not issued to a device that logged out or was signed out: its token no longer works", async () => {
    const mae = await registerRaw(t.url, "mae");
    await credentials(mae);
    const open = await authedSocket(t.url, mae.token);
    const logout = await fetch(`${t.url}/api/v1/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${mae.token}` },
    });
    assert.equal(logout.status, 204);
    assert.equal((await open.closed).code, 4003, "its connection is closed at once");
    const s = await rawSocket(t.url);
    try {
      assert.equal((await s.call({ type: "turn.credentials" })).code, "unauthenticated");
      const denied = await s.auth(mae.token);
      assert.equal(denied.code, "auth-failed");
    } finally {
      s.close();
    }

    // A device the account signs out (DELETE /devices/…) is in the same place.
    const ned = await registerRaw(t.url, "ned");
    const res = await rawAuth(t.url, "login", "ned");
    const second = (await res.json()) as RawAccount;
    const revoke = await fetch(`${t.url}/api/v1/devices/${second.deviceId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ned.token}` },
    });
    assert.equal(revoke.status, 204);
    const again = await rawSocket(t.url);
    try {
      assert.equal((await again.auth(second.token)).code, "auth-failed");
    } finally {
      again.close();
    }
  });
});
