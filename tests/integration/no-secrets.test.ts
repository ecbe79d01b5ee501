import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { fromBase64 } from "@sori/protocol";
import { MemoryStorage, SoriClient } from "@sori/sdk";
import { PASSWORD, receive, startTestServer, type TestServer } from "../helpers.ts";

/** A device's private signature key, read from its own storage (where only the device has it). */
async function privateKey(storage: MemoryStorage): Promise<Uint8Array> {
  const profile = JSON.parse(new TextDecoder().decode(await storage.get("profile"))) as {
    signaturePrivateKey: string;
  };
  const key = fromBase64(profile.signaturePrivateKey);
  assert.ok(key && key.length >= 32, "found the private key");
  return key;
}

/** Every way a secret could be written down: raw bytes, base64, base64url, hex. */
function forms(secret: Uint8Array | string): Buffer[] {
  if (typeof secret === "string") return [Buffer.from(secret)];
  const b = Buffer.from(secret);
  return [
    b,
    Buffer.from(b.toString("base64")),
    Buffer.from(b.toString("base64url")),
    Buffer.from(b.toString("hex")),
  ];
}

/**
 * "No secrets or content in the server": after real use (messages, a group with a name, profiles), the
 * database files, the logs and /metrics hold no message text, no private key, no password and no session
 * token; passwords are stored only as scrypt hashes.
 */
describe("the server holds no secrets and no content", () => {
  let t: TestServer;
  const texts = ["비밀 메시지 sori-plaintext-4f1c", "meet at the blue door 7781", "hikers-group-name-zq"];
  const secrets: { what: string; value: Uint8Array | string }[] = [];
  before(async () => {
    t = await startTestServer();
    const storages = [new MemoryStorage(), new MemoryStorage()];
    const tokens: string[] = [];
    for (const [i, name] of ["alice", "bob"].entries()) {
      await SoriClient.register({
        serverUrl: t.url,
        username: name,
        password: PASSWORD,
        storage: storages[i]!,
      });
      const profile = JSON.parse(new TextDecoder().decode(await storages[i]!.get("profile"))) as {
        token: string;
      };
      tokens.push(profile.token);
    }
    const alice = await SoriClient.open(storages[0]!);
    const bob = await SoriClient.open(storages[1]!);
    await alice.connect();
    await bob.connect();
    try {
      await alice.setProfile({ displayName: "Alice secret-display-name-91" });
      await alice.sendText("bob", texts[0]!);
      const group = await alice.createGroup(texts[2]!, ["bob"]);
      await alice.sendText(group.id, texts[1]!);
      await receive(bob, 2);
    } finally {
      await alice.close();
      await bob.close();
    }
    secrets.push(
      { what: "alice's private key", value: await privateKey(storages[0]!) },
      { what: "bob's private key", value: await privateKey(storages[1]!) },
      { what: "the password", value: PASSWORD },
      { what: "a display name", value: "secret-display-name-91" },
      ...texts.map((value) => ({ what: "a message or group name", value })),
      ...tokens.map((value) => ({ what: "a session token", value })),
    );
  });
  after(async () => {
    await t.stop();
  });

  const assertClean = (where: string, bytes: Buffer): void => {
    for (const s of secrets)
      for (const f of forms(s.value)) assert.equal(bytes.includes(f), false, `${s.what} found in ${where}`);
  };

  it("the database files (and the WAL) and everything else in the data dir contain none of it", () => {
    const files = readdirSync(t.dataDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    assert.ok(files.some((d) => d.name === "sori.db"));
    for (const d of files) assertClean(d.name, readFileSync(join(d.parentPath, d.name)));
  });

  it("passwords are stored only as scrypt hashes", () => {
    const db = new DatabaseSync(join(t.dataDir, "sori.db"), { readOnly: true });
    try {
      const rows = db.prepare("SELECT password_hash FROM users").all() as { password_hash: string }[];
      assert.equal(rows.length, 2);
      for (const r of rows)
        assert.match(r.password_hash, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    } finally {
      db.close();
    }
  });

  it("the logs contain none of it", () => {
    const logs = Buffer.from(t.logs.join(""));
    assert.ok(logs.length > 0);
    assertClean("the logs", logs);
  });

  it("/metrics, when the server has it, contains none of it", async (ctx) => {
    const res = await fetch(`${t.url}/metrics`);
    // Without the endpoint the path is an app route (index.html) or a 404.
    if (res.status === 404 || /text\/html/.test(res.headers.get("content-type") ?? "")) {
      ctx.diagnostic("no /metrics endpoint on this server: nothing to check");
      await res.body?.cancel();
      return;
    }
    assert.equal(res.status, 200);
    assertClean("/metrics", Buffer.from(await res.arrayBuffer()));
  });
});
