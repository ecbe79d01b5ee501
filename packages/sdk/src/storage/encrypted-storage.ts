import { fromBase64Url, toBase64Url } from "@sori/protocol";
import { SdkError } from "../errors.ts";
import type { ClientStorage } from "./storage.ts";

/** Where the key-derivation parameters live (in clear: they are not secret). */
const ENCRYPTION_HEADER_KEY = "encryption";
const ITERATIONS = 600_000;
const IV_BYTES = 12;
const CHECK = new TextEncoder().encode("sori-profile-check");
const encoder = new TextEncoder();

type Header = { v: 1; kdf: "pbkdf2-sha256"; iterations: number; salt: string; check: string };

async function deriveKey(passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(passphrase), "PBKDF2", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

async function seal(key: CryptoKey, name: string, plain: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  // The storage key is authenticated too, so a value moved to another key does not decrypt.
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(name) },
    key,
    plain as BufferSource,
  );
  const out = new Uint8Array(IV_BYTES + ct.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ct), IV_BYTES);
  return out;
}

async function open(key: CryptoKey, name: string, sealed: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: sealed.subarray(0, IV_BYTES) as BufferSource,
        additionalData: encoder.encode(name),
      },
      key,
      sealed.subarray(IV_BYTES) as BufferSource,
    ),
  );
}

/**
 * Encrypts every value of another storage with AES-256-GCM under a key derived from a passphrase
 * (PBKDF2-SHA-256, 600,000 rounds, random salt; WebCrypto, so Node and browsers). Key names stay
 * in clear: they hold only ids. Used by the CLI for passphrase-protected profiles.
 */
export class EncryptedStorage implements ClientStorage {
  readonly #inner: ClientStorage;
  readonly #key: CryptoKey;

  private constructor(inner: ClientStorage, key: CryptoKey) {
    this.#inner = inner;
    this.#key = key;
  }

  /** Whether `inner` holds an encrypted profile. */
  static async isEncrypted(inner: ClientStorage): Promise<boolean> {
    return (await inner.get(ENCRYPTION_HEADER_KEY)) !== undefined;
  }

  /** Starts encrypting an empty storage under `passphrase`. */
  static async create(inner: ClientStorage, passphrase: string): Promise<EncryptedStorage> {
    if (passphrase.length === 0) throw new SdkError("bad-request", "the passphrase is empty");
    if ((await inner.list("")).length > 0)
      throw new SdkError("conflict", "this profile already holds data; encryption starts with a new profile");
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await deriveKey(passphrase, salt, ITERATIONS);
    const header: Header = {
      v: 1,
      kdf: "pbkdf2-sha256",
      iterations: ITERATIONS,
      salt: toBase64Url(salt),
      check: toBase64Url(await seal(key, ENCRYPTION_HEADER_KEY, CHECK)),
    };
    await inner.put(ENCRYPTION_HEADER_KEY, encoder.encode(JSON.stringify(header)));
    return new EncryptedStorage(inner, key);
  }

  /** Opens an encrypted storage; a wrong passphrase is SdkError "auth-failed" and changes nothing. */
  static async open(inner: ClientStorage, passphrase: string): Promise<EncryptedStorage> {
    const bytes = await inner.get(ENCRYPTION_HEADER_KEY);
    if (!bytes) throw new SdkError("not-logged-in", "this profile is not encrypted");
    let header: Header;
    try {
      header = JSON.parse(new TextDecoder().decode(bytes)) as Header;
    } catch {
      throw new SdkError("storage", "the profile's encryption header is damaged");
    }
    const salt = fromBase64Url(header.salt);
    const check = fromBase64Url(header.check);
    if (header.v !== 1 || !salt || !check || !Number.isInteger(header.iterations) || header.iterations < 1)
      throw new SdkError("storage", "the profile's encryption header is damaged");
    const key = await deriveKey(passphrase, salt, header.iterations);
    try {
      await open(key, ENCRYPTION_HEADER_KEY, check);
    } catch {
      throw new SdkError("auth-failed", "wrong passphrase for this profile");
    }
    return new EncryptedStorage(inner, key);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const sealed = await this.#inner.get(key);
    if (sealed === undefined) return undefined;
    try {
      return await open(this.#key, key, sealed);
    } catch (error) {
      throw new SdkError("storage", `a stored value (${key}) could not be decrypted`, {}, { cause: error });
    }
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    if (key === ENCRYPTION_HEADER_KEY) throw new SdkError("bad-request", "reserved storage key");
    await this.#inner.put(key, await seal(this.#key, key, value));
  }

  delete(key: string): Promise<void> {
    return this.#inner.delete(key);
  }

  list(prefix: string): Promise<string[]> {
    return this.#inner.list(prefix);
  }
}
