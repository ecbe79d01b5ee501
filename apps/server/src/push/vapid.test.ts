import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createLogger } from "../logger.ts";
import { loadVapidKey, VAPID_KEY_FILE, VapidKeyError } from "./vapid.ts";

const dirs: string[] = [];
const freshDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "sori-vapid-"));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const lines: string[] = [];
const log = createLogger("debug", (l) => lines.push(l));

/**
 * Splits `vapid t=…, k=…` and checks the ES256 signature under the key in the data directory's file
 * (the mock push service of the integration tests checks it under `k`, as push services do).
 */
function open(
  header: string,
  dir: string,
): { claims: Record<string, unknown>; k: string; jwtHeader: unknown } {
  const m = /^vapid t=([^.]+)\.([^.]+)\.([^,]+), k=(.+)$/.exec(header);
  assert.ok(m, header);
  const [, h, c, s, k] = m as unknown as string[];
  const key = createPublicKey(readFileSync(join(dir, VAPID_KEY_FILE), "utf8"));
  const spki = key.export({ format: "der", type: "spki" });
  assert.equal(Buffer.from(spki.subarray(spki.length - 65)).toString("base64url"), k, "k is the file's key");
  const data = Buffer.from(`${h}.${c}`);
  assert.ok(verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, Buffer.from(s!, "base64url")));
  return {
    claims: JSON.parse(Buffer.from(c!, "base64url").toString()) as Record<string, unknown>,
    k: k!,
    jwtHeader: JSON.parse(Buffer.from(h!, "base64url").toString()),
  };
}

describe("VAPID (RFC 8292)", () => {
  it("makes the key at the first start (0600) and reads the same one after a restart", () => {
    const dir = freshDir();
    const first = loadVapidKey(dir, "mailto:ops@sori.example", log);
    const file = join(dir, VAPID_KEY_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = loadVapidKey(dir, "mailto:ops@sori.example", log);
    assert.equal(again.publicKey, first.publicKey);
    assert.equal(Buffer.from(first.publicKey, "base64url").length, 65);
    assert.ok(lines.some((l) => l.includes('"push.vapid_key_created"')));
    assert.ok(
      !lines.join("").includes(readFileSync(file, "utf8").split("\n")[1]!),
      "the key is never logged",
    );
  });

  it("signs ES256 tokens for the endpoint's origin, valid for less than a day, with the contact", () => {
    const dir = freshDir();
    const vapid = loadVapidKey(dir, "mailto:ops@sori.example", log);
    const now = Date.UTC(2026, 11, 5, 12);
    const header = vapid.authorization(new URL("https://fcm.googleapis.com/fcm/send/abc?x=1"), now);
    const { claims, k, jwtHeader } = open(header, dir);
    assert.deepEqual(jwtHeader, { typ: "JWT", alg: "ES256" });
    assert.equal(k, vapid.publicKey);
    assert.equal(claims.aud, "https://fcm.googleapis.com");
    assert.equal(claims.sub, "mailto:ops@sori.example");
    const exp = claims.exp as number;
    assert.ok(exp > now / 1000 && exp <= now / 1000 + 24 * 3600, `exp ${exp}`);
    // Reused within the hour for the same origin, made anew for another.
    assert.equal(vapid.authorization(new URL("https://fcm.googleapis.com/other"), now + 60_000), header);
    assert.notEqual(vapid.authorization(new URL("https://web.push.apple.com/x"), now), header);
    assert.notEqual(vapid.authorization(new URL("https://fcm.googleapis.com/x"), now + 2 * 3600_000), header);
  });

  it("leaves sub out when the operator gave no contact", () => {
    const dir = freshDir();
    const vapid = loadVapidKey(dir, undefined, log);
    const { claims } = open(vapid.authorization(new URL("https://push.example/x"), Date.now()), dir);
    assert.equal("sub" in claims, false);
  });

  it("refuses to start over a damaged or foreign key file, and leaves it as it was", () => {
    const dir = freshDir();
    const file = join(dir, VAPID_KEY_FILE);
    writeFileSync(file, "not a key", { mode: 0o600 });
    assert.throws(
      () => loadVapidKey(dir, undefined, log),
      (e: unknown) => e instanceof VapidKeyError && /restore/.test(e.message),
    );
    assert.equal(readFileSync(file, "utf8"), "not a key");
    const ed25519 = generateKeyPairSync("ed25519")
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString();
    writeFileSync(file, ed25519, { mode: 0o600 });
    assert.throws(
      () => loadVapidKey(dir, undefined, log),
      (e: unknown) => e instanceof VapidKeyError && /P-256/.test(e.message),
    );
    assert.equal(readFileSync(file, "utf8"), ed25519);
  });

  it("warns when others can read the key file", () => {
    const dir = freshDir();
    loadVapidKey(dir, undefined, log);
    chmodSync(join(dir, VAPID_KEY_FILE), 0o644);
    lines.length = 0;
    loadVapidKey(dir, undefined, log);
    assert.ok(lines.some((l) => l.includes('"push.vapid_key_exposed"')));
  });
});
