// Creates benchmark accounts directly in a fresh data directory, before the server starts, so a run with
// thousands of clients does not spend minutes on scrypt (one hash per registration over HTTP). Every
// account gets the same password hash (computed once, so login over HTTP still works) and its own
// session token, exactly as the server itself would store them.
import { createHash, randomBytes } from "node:crypto";
import { type AuthResponse, toBase64Url } from "@sori/protocol";
import { hashPassword, type SqliteStore } from "@sori/server";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const SESSION_TTL_MS = 30 * 86_400_000;

/**
 * Writes `count` users named `${prefix}${i}` (one device and session each) into `dataDir`, with the
 * store of the checkout at `serverRoot` (default this one), so an A/B run against an older server
 * gets a database of that server's schema.
 */
export async function seedAccounts(
  dataDir: string,
  count: number,
  prefix: string,
  password: string,
  serverRoot: string = join(import.meta.dirname, ".."),
): Promise<AuthResponse[]> {
  const { SqliteStore: Store } = (await import(
    pathToFileURL(join(serverRoot, "apps/server/src/store/sqlite-store.ts")).href
  )) as { SqliteStore: typeof SqliteStore };
  const store = new Store({ dataDir, durability: "normal" });
  try {
    const passwordHash = await hashPassword(password);
    const now = Date.now();
    const writes: Promise<unknown>[] = [];
    const out: AuthResponse[] = [];
    for (let i = 0; i < count; i++) {
      const userId = toBase64Url(randomBytes(16));
      const deviceId = toBase64Url(randomBytes(16));
      const token = toBase64Url(randomBytes(32));
      const username = `${prefix}${i}`;
      writes.push(
        store
          .createUserWithDevice(
            { userId, username, passwordHash, createdAt: now, accountKey: null },
            { deviceId, userId, name: "load", signatureKey: randomBytes(32), createdAt: now },
            {
              tokenHash: createHash("sha256").update(token).digest("base64url"),
              deviceId,
              createdAt: now,
              expiresAt: now + SESSION_TTL_MS,
            },
          )
          // Load clients speak the frames, not MLS: a stand-in account key approves the device (the
          // store does not check certificates; the Delivery Service does, and seeding bypasses it).
          .then(async (created) => {
            if (created === "created")
              await store.initAccountKey({
                userId,
                deviceId,
                accountKey: randomBytes(32),
                certificate: randomBytes(64),
                now,
              });
            return created;
          }),
      );
      out.push({ userId, username, deviceId, token, approval: "pending", accountKey: null });
    }
    const outcomes = await Promise.all(writes);
    const taken = outcomes.filter((o) => o !== "created").length;
    if (taken > 0) throw new Error(`${taken} seeded usernames already existed in ${dataDir}`);
    return out;
  } finally {
    await store.close();
  }
}
