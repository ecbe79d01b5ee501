import {
  type AccountKeys,
  accountKeysOf,
  certifyDevice,
  type DeviceCredential,
  type DeviceKeys,
  generateAccountKeys,
  type MemberIdentity,
  verifyDeviceCertificate,
} from "@sori/crypto";
import { fromBase64, toBase64 } from "@sori/protocol";
import { SdkError } from "../errors.ts";
import { type ClientStorage, getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";

/** This device's certificate as stored; `confirmed` once the server accepted it (init, reset, approval). */
type StoredCredential = {
  accountKey: string;
  certificate: string;
  confirmed: boolean;
  via: "init" | "reset" | "approval";
};

/**
 * Who this device is to its account: the certificate its account key made for it (carried in every
 * MLS leaf and KeyPackage of the device), and on approved devices the account key itself, to sign in
 * further devices. Until the account signed it in, the device can take part in nothing.
 */
export class AccountIdentity {
  readonly #storage: ClientStorage;
  readonly #identity: MemberIdentity;
  readonly #keys: DeviceKeys;
  #stored: StoredCredential | undefined;
  #credential: DeviceCredential | undefined;
  #account: AccountKeys | undefined;

  constructor(storage: ClientStorage, identity: MemberIdentity, keys: DeviceKeys) {
    this.#storage = storage;
    this.#identity = identity;
    this.#keys = keys;
  }

  /** Reads what is stored (once, before connecting). */
  async load(): Promise<void> {
    this.#stored = await getJson<StoredCredential>(this.#storage, StorageKeys.credential);
    this.#credential = this.#stored && this.#decode(this.#stored);
    const secret = await this.#storage.get(StorageKeys.accountKey);
    this.#account = secret ? accountKeysOf(secret) : undefined;
  }

  #decode(s: StoredCredential): DeviceCredential {
    const accountKey = fromBase64(s.accountKey);
    const certificate = fromBase64(s.certificate);
    if (!accountKey || !certificate)
      throw new SdkError("storage", "the stored device certificate is damaged");
    return { ...this.#identity, accountKey, certificate };
  }

  /** The account signed this device in and the server knows it. */
  get approved(): boolean {
    return this.#stored?.confirmed === true;
  }

  /** A certificate is stored but the server has not confirmed it yet (an init or reset to resend). */
  get unconfirmed():
    { via: StoredCredential["via"]; accountKey: Uint8Array; certificate: Uint8Array } | undefined {
    const s = this.#stored;
    return s && !s.confirmed && this.#credential
      ? { via: s.via, accountKey: this.#credential.accountKey, certificate: this.#credential.certificate }
      : undefined;
  }

  /** This device's MLS credential; "approval-required" until the account signed it in. */
  get credential(): DeviceCredential {
    if (!this.#credential || !this.approved)
      throw new SdkError("approval-required", "this device is not approved by its account yet");
    return this.#credential;
  }

  /** The account's public identity key, once known to this device. */
  get accountKey(): Uint8Array | undefined {
    return this.#credential?.accountKey ?? this.#account?.publicKey;
  }

  /** The account key pair, to sign in another device (approved devices only). */
  get accountKeys(): AccountKeys {
    if (!this.#account) throw new SdkError("approval-required", "this device does not hold the account key");
    return this.#account;
  }

  /**
   * Makes a new account key and certifies this device with it (a new account, or an identity reset).
   * Stored before the server hears of it, so that a lost answer leads to resending the same key.
   */
  async create(via: "init" | "reset"): Promise<{ accountKey: Uint8Array; certificate: Uint8Array }> {
    const account = generateAccountKeys();
    const credential = certifyDevice(account, this.#identity, this.#keys.signaturePublicKey);
    await this.#storage.put(StorageKeys.accountKey, account.privateKey);
    await this.#save(
      {
        accountKey: toBase64(account.publicKey),
        certificate: toBase64(credential.certificate),
        confirmed: false,
        via,
      },
      credential,
    );
    this.#account = account;
    return { accountKey: account.publicKey, certificate: credential.certificate };
  }

  /** The server accepted the stored certificate. */
  async confirm(): Promise<void> {
    if (this.#stored && this.#credential)
      await this.#save({ ...this.#stored, confirmed: true }, this.#credential);
  }

  /**
   * Adopts what an approving device sent: the account key (opened by the caller) and this device's
   * certificate. "forbidden" unless the certificate is the account key's over this very device.
   */
  async adopt(account: AccountKeys, certificate: Uint8Array): Promise<void> {
    const credential: DeviceCredential = { ...this.#identity, accountKey: account.publicKey, certificate };
    if (!verifyDeviceCertificate(credential, this.#keys.signaturePublicKey))
      throw new SdkError("forbidden", "the approval does not carry a valid certificate for this device");
    await this.#storage.put(StorageKeys.accountKey, account.privateKey);
    await this.#save(
      {
        accountKey: toBase64(account.publicKey),
        certificate: toBase64(certificate),
        confirmed: true,
        via: "approval",
      },
      credential,
    );
    this.#account = account;
  }

  /** Signs another device of this account in. */
  certify(device: MemberIdentity, signatureKey: Uint8Array): DeviceCredential {
    return certifyDevice(this.accountKeys, device, signatureKey);
  }

  async #save(s: StoredCredential, credential: DeviceCredential): Promise<void> {
    await putJson(this.#storage, StorageKeys.credential, s);
    this.#stored = s;
    this.#credential = credential;
  }
}
