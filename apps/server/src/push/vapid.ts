import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "../logger.ts";

/** The server's VAPID key (RFC 8292) in its data directory: PKCS#8 PEM, readable by the server's user only. */
export const VAPID_KEY_FILE = "vapid-key.pem";

/** How long a VAPID token is valid (push services refuse more than 24 h), and how long one is reused. */
const TOKEN_LIFETIME_S = 12 * 3600;
const TOKEN_REUSE_MS = 3600_000;

/** The key file is unreadable or not a P-256 key: the server stops rather than make a new one. */
export class VapidKeyError extends Error {
  readonly code = "bad-vapid-key";
  constructor(message: string) {
    super(message);
    this.name = "VapidKeyError";
  }
}

/**
 * The application server's identity towards push services. Every subscription a browser makes is
 * bound to the public key, so the key is made once, at the first start, and kept: a new one would
 * make every device's subscription useless until it subscribes again.
 */
export class Vapid {
  readonly #key: KeyObject;
  readonly #contact: string | undefined;
  readonly #tokens = new Map<string, { header: string; until: number }>();
  /** The uncompressed P-256 public key, base64url: the `k` of every request and the browsers' applicationServerKey. */
  readonly publicKey: string;

  /** `contact`: the `sub` of every token (RFC 8292 §2.1); left out when the operator gave none. */
  constructor(key: KeyObject, contact: string | undefined) {
    const details = key.asymmetricKeyDetails;
    if (key.asymmetricKeyType !== "ec" || details?.namedCurve !== "prime256v1")
      throw new VapidKeyError("the VAPID key must be an EC key on P-256");
    this.#key = key;
    this.#contact = contact;
    const jwk = key.export({ format: "jwk" });
    this.publicKey = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x!, "base64url"),
      Buffer.from(jwk.y!, "base64url"),
    ]).toString("base64url");
  }

  /**
   * The `Authorization` header for a push to `endpoint`: `vapid t=<JWT>, k=<public key>` (RFC 8292
   * §3), the JWT signed with ES256 for the endpoint's origin. Reused for an hour per origin.
   */
  authorization(endpoint: URL, now: number): string {
    const audience = endpoint.origin;
    const cached = this.#tokens.get(audience);
    if (cached && cached.until > now) return cached.header;
    const exp = Math.floor(now / 1000) + TOKEN_LIFETIME_S;
    const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");
    const claims = { aud: audience, exp, ...(this.#contact ? { sub: this.#contact } : {}) };
    const signed = `${part({ typ: "JWT", alg: "ES256" })}.${part(claims)}`;
    // JWS wants r ‖ s (IEEE P1363), not the DER that node:crypto makes by default.
    const signature = sign("sha256", Buffer.from(signed), { key: this.#key, dsaEncoding: "ieee-p1363" });
    const header = `vapid t=${signed}.${signature.toString("base64url")}, k=${this.publicKey}`;
    if (this.#tokens.size > 1000) this.#tokens.clear();
    this.#tokens.set(audience, { header, until: now + TOKEN_REUSE_MS });
    return header;
  }
}

/**
 * Reads the VAPID key from the data directory, or makes one there at the first start (written to a
 * temporary file with mode 0600, synced, then renamed, so a crash leaves no half key). A file that
 * cannot be read as a P-256 key stops the start: replacing it would orphan every subscription.
 */
export function loadVapidKey(dataDir: string, contact: string | undefined, log: Logger): Vapid {
  const file = join(dataDir, VAPID_KEY_FILE);
  let pem: string | undefined;
  try {
    pem = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT")
      throw new VapidKeyError(`cannot read the VAPID key ${file}: ${(error as Error).message}`);
  }
  if (pem === undefined) {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    mkdirSync(dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, pem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    log.info("push.vapid_key_created", { file });
  } else if ((statSync(file).mode & 0o077) !== 0) {
    log.warn("push.vapid_key_exposed", { file, hint: "chmod 600: other users can read the VAPID key" });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new VapidKeyError(`${file} is not a PEM private key; restore it from a backup`);
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1")
    throw new VapidKeyError(`${file} is not a P-256 key; restore the server's VAPID key from a backup`);
  return new Vapid(key, contact);
}
