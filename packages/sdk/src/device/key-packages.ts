import {
  decodeKeyPackageBundle,
  encodeKeyPackageBundle,
  generateKeyPackage,
  type KeyPackageBundle,
  keyPackageIdentity,
} from "@sori/crypto";
import { KEY_PACKAGE_BATCH, KEY_PACKAGE_LOW_WATER, toBase64 } from "@sori/protocol";
import { StorageKeys } from "../storage/storage-keys.ts";
import type { DeviceContext } from "./device-context.ts";

/**
 * Most private KeyPackages a device keeps. Strangers who claim its KeyPackages without ever using them
 * would otherwise make it store more with every refill; at the cap it stops refilling one-time ones
 * (claimers then get the reusable last-resort one).
 */
const MAX_LOCAL_KEY_PACKAGES = 500;
/** An expired KeyPackage is kept this much longer, for a Welcome made just before it expired. */
const EXPIRED_GRACE_S = 86_400;
/** The last-resort KeyPackage is replaced this long before it expires. */
const LAST_RESORT_RENEW_S = 7 * 86_400;

/**
 * This device's KeyPackages: the public halves the server hands to whoever adds the device to a chat,
 * the private halves kept here to join from a Welcome. The first upload activates the device.
 */
export class KeyPackages {
  readonly #ctx: Pick<DeviceContext, "request" | "storage" | "account" | "keys" | "warn">;
  #refilling: Promise<void> | undefined;

  constructor(ctx: Pick<DeviceContext, "request" | "storage" | "account" | "keys" | "warn">) {
    this.#ctx = ctx;
  }

  /** Keeps the server stocked; one refill at a time. Never throws (a failure is a warning). */
  refill(): Promise<void> {
    if (this.#refilling) return this.#refilling;
    this.#refilling = this.#refill()
      .catch((error: unknown) =>
        this.#ctx.warn("kp-refill-failed", `could not refill KeyPackages: ${(error as Error).message}`),
      )
      .finally(() => {
        this.#refilling = undefined;
      });
    return this.#refilling;
  }

  async #refill(): Promise<void> {
    const { request, storage, keys } = this.#ctx;
    // The credential every KeyPackage carries: only a device its account signed in has one.
    const identity = this.#ctx.account.credential;
    const status = await request({ type: "kp.status" });
    const { kept, lastResortFresh } = await this.#dropExpired();
    const needLastResort = !status.hasLastResort || !lastResortFresh;
    if (status.remaining >= KEY_PACKAGE_LOW_WATER && !needLastResort) return;
    const room = Math.max(0, MAX_LOCAL_KEY_PACKAGES - kept);
    if (room < KEY_PACKAGE_BATCH)
      this.#ctx.warn(
        "kp-refill-failed",
        `this device keeps ${kept} unused KeyPackages (others claimed them without using them); it adds at most ${room} more`,
      );
    const bundles: KeyPackageBundle[] = [];
    const count = Math.min(room, Math.max(0, KEY_PACKAGE_BATCH - status.remaining));
    for (let i = 0; i < count; i++) bundles.push(await generateKeyPackage(identity, keys));
    // Replaced a week before it expires: adders refuse an expired KeyPackage.
    const lastResort = needLastResort
      ? await generateKeyPackage(identity, keys, { lastResort: true })
      : undefined;
    // Private halves are stored first: a Welcome can arrive as soon as the public ones are out.
    for (const b of lastResort ? [...bundles, lastResort] : bundles)
      await storage.put(StorageKeys.keyPackage(b.ref), encodeKeyPackageBundle(b));
    await request({
      type: "kp.upload",
      keyPackages: bundles.map((b) => toBase64(b.publicKeyPackage)),
      ...(lastResort ? { lastResort: toBase64(lastResort.publicKeyPackage) } : {}),
    });
  }

  /**
   * Deletes private KeyPackages nobody can validly use any more (past their lifetime, last-resort ones
   * included); says how many are left and whether a last-resort one is good for another week.
   */
  async #dropExpired(): Promise<{ kept: number; lastResortFresh: boolean }> {
    const { storage } = this.#ctx;
    const now = Date.now() / 1000;
    let kept = 0;
    let lastResortFresh = false;
    for (const key of await storage.list(StorageKeys.keyPackages)) {
      const bytes = await storage.get(key);
      const bundle = bytes && decodeKeyPackageBundle(bytes);
      const notAfter = bundle ? keyPackageIdentity(bundle.publicKeyPackage).notAfter : 0;
      if (!bundle || notAfter + EXPIRED_GRACE_S <= now) {
        await storage.delete(key);
        continue;
      }
      kept++;
      if (bundle.lastResort && notAfter - LAST_RESORT_RENEW_S > now) lastResortFresh = true;
    }
    return { kept, lastResortFresh };
  }

  /** How many one-time KeyPackages of this device the server still holds. */
  async remaining(): Promise<number> {
    return (await this.#ctx.request({ type: "kp.status" })).remaining;
  }

  /** Every private KeyPackage this device holds (to find the one a Welcome was made for). */
  async bundles(): Promise<KeyPackageBundle[]> {
    const out: KeyPackageBundle[] = [];
    for (const key of await this.#ctx.storage.list(StorageKeys.keyPackages)) {
      const b = await this.#ctx.storage.get(key);
      if (b) out.push(decodeKeyPackageBundle(b));
    }
    return out;
  }

  /** A one-time KeyPackage was used by a Welcome: its private half must not be used again. */
  async used(bundle: KeyPackageBundle): Promise<void> {
    if (!bundle.lastResort) await this.#ctx.storage.delete(StorageKeys.keyPackage(bundle.ref));
  }
}
