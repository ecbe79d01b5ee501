import {
  decodeKeyPackageBundle,
  encodeKeyPackageBundle,
  generateKeyPackage,
  type KeyPackageBundle,
} from "@sori/crypto";
import { KEY_PACKAGE_BATCH, KEY_PACKAGE_LOW_WATER, toBase64 } from "@sori/protocol";
import { StorageKeys } from "../storage/storage-keys.ts";
import type { DeviceContext } from "./device-context.ts";

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
    if (status.remaining >= KEY_PACKAGE_LOW_WATER && status.hasLastResort) return;
    const bundles: KeyPackageBundle[] = [];
    const count = Math.max(0, KEY_PACKAGE_BATCH - status.remaining);
    for (let i = 0; i < count; i++) bundles.push(await generateKeyPackage(identity, keys));
    const lastResort = status.hasLastResort
      ? undefined
      : await generateKeyPackage(identity, keys, { lastResort: true });
    // Private halves are stored first: a Welcome can arrive as soon as the public ones are out.
    for (const b of lastResort ? [...bundles, lastResort] : bundles)
      await storage.put(StorageKeys.keyPackage(b.ref), encodeKeyPackageBundle(b));
    await request({
      type: "kp.upload",
      keyPackages: bundles.map((b) => toBase64(b.publicKeyPackage)),
      ...(lastResort ? { lastResort: toBase64(lastResort.publicKeyPackage) } : {}),
    });
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
