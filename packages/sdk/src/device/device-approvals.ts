import { accountKeysOf, openSecret, sealSecret, type TransferKeys } from "@sori/crypto";
import { type Approval, fromBase64, type PendingDevice, toBase64 } from "@sori/protocol";
import { SdkError } from "../errors.ts";
import { getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import { createLink } from "../transport/http-api.ts";
import type { AccountIdentity } from "./account-identity.ts";
import { approvalCode, fullLinkCode, linkProof, newLinkSecret, sameProof } from "./approval-codes.ts";
import type { DeviceContext } from "./device-context.ts";
import { linkQr } from "./enrolment.ts";

/** How long a link code (and its secret) is valid: the server's lifetime of the code. */
const LINK_SECRET_TTL_MS = 10 * 60_000;

/** A device of this account that signed in and waits for approval, as an approving device shows it. */
export type DeviceApprovalRequest = {
  deviceId: string;
  name: string;
  /** When it signed in (ms). */
  createdAt: number;
  /** The code the new device shows: approve only if they match. */
  code: string;
  /** It used a link code this device showed (and proved it): approved without asking. */
  linked: boolean;
};

/** What a device waiting for approval keeps (its transfer key pair, what it must check the approval against). */
export type ApprovalRecord = {
  mode: Approval;
  transferPublicKey?: string;
  transferPrivateKey?: string;
  /** The account key the server named at sign-in; the code covers it, so the approval must carry it. */
  accountKeyHint?: string | null;
  /** Link sign-ins: the code's secret half, which the approving device's sealed box is bound to. */
  linkSecret?: string;
  code?: string;
};

/** Sealed boxes are bound to one device, and (for links) to the code's secret, which the server lacks. */
function sealContext(userId: string, deviceId: string, linkSecret: string | undefined): Uint8Array {
  return new TextEncoder().encode(`${userId}/${deviceId}/${linkSecret ?? ""}`);
}

/**
 * Approving devices into the account, from both sides. An approved device sees every sign-in of the
 * account (password sign-ins are shown with their code, to approve or reject; link sign-ins it
 * made the code for are approved when their proof checks out) and hands the account key, sealed, to
 * the devices it approves. A new device waits, then checks and adopts what it was given.
 */
export class DeviceApprovals {
  readonly #ctx: DeviceContext;
  readonly #identity: AccountIdentity;
  /** Requests already shown (the event fires once per request and run). */
  readonly #announced = new Set<string>();
  #approvedWaiters: { resolve: () => void; reject: (e: SdkError) => void }[] = [];

  constructor(ctx: DeviceContext, identity: AccountIdentity) {
    this.#ctx = ctx;
    this.#identity = identity;
  }

  // --- the new device -------------------------------------------------------------------------------

  /** Stores the approval state a sign-in answered with (called once, at enrolment). */
  static async record(
    storage: DeviceContext["storage"],
    device: { userId: string; deviceId: string; signatureKey: Uint8Array },
    answer: { approval: Approval; accountKey: string | null },
    transfer: TransferKeys | undefined,
    linkSecret: string | undefined,
  ): Promise<ApprovalRecord> {
    const rec: ApprovalRecord = {
      mode: answer.approval,
      ...(transfer
        ? {
            transferPublicKey: toBase64(transfer.publicKey),
            transferPrivateKey: toBase64(transfer.privateKey),
            code: await approvalCode(
              device,
              device.signatureKey,
              transfer.publicKey,
              answer.accountKey ? fromBase64(answer.accountKey) : undefined,
            ),
          }
        : {}),
      accountKeyHint: answer.accountKey,
      ...(linkSecret ? { linkSecret } : {}),
    };
    await putJson(storage, StorageKeys.approval, rec);
    return rec;
  }

  async #record(): Promise<ApprovalRecord | undefined> {
    return getJson<ApprovalRecord>(this.#ctx.storage, StorageKeys.approval);
  }

  /** What the server answered at sign-in (the account was new, or had no device left, or must approve). */
  async signedInAs(): Promise<Approval | undefined> {
    return (await this.#record())?.mode;
  }

  /** The code this (waiting) device shows, to compare with the one on the approving device. */
  async code(): Promise<string | undefined> {
    return this.#identity.approved ? undefined : (await this.#record())?.code;
  }

  /**
   * Brings the approval state up to date (after connecting): finishes an account key made but not yet
   * confirmed, makes it for a new account, and on a waiting device checks whether it was approved.
   * Returns whether the device is approved.
   */
  async settle(): Promise<boolean> {
    if (this.#identity.approved) {
      // Approved before this run (or by a delivery processed during the sync): nobody may keep waiting.
      for (const w of this.#approvedWaiters.splice(0)) w.resolve();
      return true;
    }
    const unconfirmed = this.#identity.unconfirmed;
    if (unconfirmed && unconfirmed.via !== "approval") {
      await this.#ctx.request({
        type: unconfirmed.via === "init" ? "account.init" : "account.reset",
        accountKey: toBase64(unconfirmed.accountKey),
        certificate: toBase64(unconfirmed.certificate),
      });
      await this.#identity.confirm();
      this.#wakeApproved();
      return true;
    }
    const rec = await this.#record();
    if (rec?.mode === "init-required" || rec?.mode === "reset-required") {
      await this.#createAccountKey(rec.mode === "init-required" ? "init" : "reset");
      return true;
    }
    return this.#checkApproved(rec);
  }

  /**
   * Gives this account a new identity key made here: for a device that cannot be approved because the
   * person has no other device left. Every other device of the account is signed out, and every
   * contact sees the safety number change before sending again.
   */
  async resetIdentity(): Promise<void> {
    if (this.#identity.approved)
      throw new SdkError("bad-request", "this device is already part of its account");
    await this.#createAccountKey("reset");
  }

  async #createAccountKey(via: "init" | "reset"): Promise<void> {
    const { accountKey, certificate } = await this.#identity.create(via);
    await this.#ctx.request({
      type: via === "init" ? "account.init" : "account.reset",
      accountKey: toBase64(accountKey),
      certificate: toBase64(certificate),
    });
    await this.#identity.confirm();
    this.#wakeApproved();
  }

  /** A "device-approved" delivery: take what the approving device sent. */
  onApproved(): void {
    this.#ctx.later(async () => {
      await this.#checkApproved(await this.#record());
    });
  }

  async #checkApproved(rec: ApprovalRecord | undefined): Promise<boolean> {
    if (this.#identity.approved) return true;
    if (!rec?.transferPrivateKey || !rec.transferPublicKey) return false;
    const self = await this.#ctx.request({ type: "device.self" });
    if (self.state !== "active" || !self.sealedKey || !self.certificate) return false;
    const transfer = {
      publicKey: fromBase64(rec.transferPublicKey)!,
      privateKey: fromBase64(rec.transferPrivateKey)!,
    };
    const { userId, deviceId } = this.#ctx.identity;
    let secret: Uint8Array;
    try {
      secret = await openSecret(transfer, self.sealedKey, sealContext(userId, deviceId, rec.linkSecret));
    } catch {
      // Not sealed by a holder of the link secret (or to this device): the server made it up.
      throw new SdkError("forbidden", "the approval did not come from a device of this account");
    }
    const account = accountKeysOf(secret);
    if (rec.accountKeyHint && !rec.linkSecret && toBase64(account.publicKey) !== rec.accountKeyHint) {
      // The code both devices showed covered the account key named at sign-in: it must be that one.
      throw new SdkError(
        "forbidden",
        "the approval carries another account key than the one the code was made for",
      );
    }
    await this.#identity.adopt(account, self.certificate);
    this.#wakeApproved();
    return true;
  }

  /** Resolves once this device is approved; "timeout" after `timeoutMs`, "approval-rejected" if refused. */
  waitApproved(timeoutMs: number): Promise<void> {
    if (this.#identity.approved) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: (): void => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: SdkError): void => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#approvedWaiters = this.#approvedWaiters.filter((w) => w !== waiter);
        reject(new SdkError("timeout", "no other device approved this one in time"));
      }, timeoutMs);
      this.#approvedWaiters.push(waiter);
    });
  }

  /** The server signed this waiting device out: the sign-in was rejected (or the device revoked). */
  signedOut(reason: string): void {
    if (this.#identity.approved) return;
    const error = new SdkError("approval-rejected", `this sign-in was not approved: ${reason}`);
    for (const w of this.#approvedWaiters.splice(0)) w.reject(error);
  }

  #wakeApproved(): void {
    for (const w of this.#approvedWaiters.splice(0)) w.resolve();
    this.#ctx.events.emit("approved", { deviceId: this.#ctx.identity.deviceId });
  }

  // --- an approved device -----------------------------------------------------------------------------

  /**
   * A single-use code (valid 10 minutes) that lets a new device join this account without the
   * password: show `code` to type, or `qr` as a QR code. Its second half never reaches the server:
   * it proves to this device that the one asking to be approved read the code.
   */
  async createLink(): Promise<{ code: string; expiresAt: number; qr: string }> {
    const { serverUrl, token } = this.#ctx.enrolment;
    const r = await createLink(serverUrl, token);
    const secret = newLinkSecret();
    await putJson(this.#ctx.storage, StorageKeys.linkSecret(r.code), { secret, expiresAt: r.expiresAt });
    const code = fullLinkCode(r.code, secret);
    return { code, expiresAt: r.expiresAt, qr: linkQr(code, serverUrl) };
  }

  /** A "device-pending" delivery: look at the account's waiting devices (outside the delivery). */
  onPending(): void {
    this.#ctx.later(async () => {
      await this.review();
    });
  }

  /**
   * The account's devices waiting for approval. Those that proved a link code this device showed are
   * approved on the spot; the others are announced (the "device-approval" event) once each.
   */
  async review(): Promise<DeviceApprovalRequest[]> {
    if (!this.#identity.approved) return [];
    const { devices } = await this.#ctx.request({ type: "device.pending" });
    const out: DeviceApprovalRequest[] = [];
    for (const d of devices) {
      const link = await this.#linkSecretFor(d);
      if (link) {
        await this.#approve(d, link);
        continue;
      }
      const request = await this.#view(d);
      out.push(request);
      if (!this.#announced.has(d.deviceId)) {
        this.#announced.add(d.deviceId);
        this.#ctx.events.emit("device-approval", request);
      }
    }
    return out;
  }

  /** Approves a waiting device of this account: signs it in and hands it the account key, sealed to it. */
  async approve(deviceId: string): Promise<void> {
    const d = await this.#pending(deviceId);
    await this.#approve(d, await this.#linkSecretFor(d));
  }

  /** Refuses a waiting device: the server signs it out. */
  async reject(deviceId: string): Promise<void> {
    await this.#pending(deviceId);
    await this.#ctx.request({ type: "device.reject", deviceId });
  }

  async #pending(deviceId: string): Promise<PendingDevice> {
    if (!this.#identity.approved)
      throw new SdkError("approval-required", "this device is not approved itself yet");
    const { devices } = await this.#ctx.request({ type: "device.pending" });
    const d = devices.find((x) => x.deviceId === deviceId);
    if (!d) throw new SdkError("not-found", "no device with that id waits for approval");
    return d;
  }

  async #approve(d: PendingDevice, link: { secret: string; key: string } | undefined): Promise<void> {
    const { userId } = this.#ctx.identity;
    const credential = this.#identity.certify({ userId, deviceId: d.deviceId }, d.signatureKey);
    const sealedKey = await sealSecret(
      d.transferKey,
      this.#identity.accountKeys.privateKey,
      sealContext(userId, d.deviceId, link?.secret),
    );
    await this.#ctx.request({
      type: "device.approve",
      deviceId: d.deviceId,
      certificate: toBase64(credential.certificate),
      sealedKey: toBase64(sealedKey),
    });
    // Single use, like the code itself.
    if (link) await this.#ctx.storage.delete(link.key);
  }

  async #view(d: PendingDevice): Promise<DeviceApprovalRequest> {
    const code = await approvalCode(
      { userId: this.#ctx.identity.userId, deviceId: d.deviceId },
      d.signatureKey,
      d.transferKey,
      this.#identity.accountKey,
    );
    return { deviceId: d.deviceId, name: d.name, createdAt: d.createdAt, code, linked: false };
  }

  /** The secret of a link code this device showed that the waiting device proved it read. */
  async #linkSecretFor(d: PendingDevice): Promise<{ secret: string; key: string } | undefined> {
    if (!d.proof || d.linkedBy !== this.#ctx.identity.deviceId) return undefined;
    const now = Date.now();
    for (const key of await this.#ctx.storage.list(StorageKeys.linkSecrets)) {
      const rec = await getJson<{ secret: string; expiresAt: number }>(this.#ctx.storage, key);
      if (!rec || rec.expiresAt + LINK_SECRET_TTL_MS < now) {
        await this.#ctx.storage.delete(key);
        continue;
      }
      if (sameProof(await linkProof(rec.secret, d.signatureKey, d.transferKey), d.proof))
        return { secret: rec.secret, key };
    }
    return undefined;
  }
}
