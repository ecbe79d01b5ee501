import {
  type Capabilities,
  generateKeyPackageWithKey,
  type KeyPackage,
  type PrivateKeyPackage,
} from "ts-mls";
import { makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { ByteReader, ByteWriter, fromUtf8, toBase64Url, utf8 } from "./bytes.ts";
import { CIPHER_SUITE, cipherSuite } from "./cipher-suite.ts";
import { checkDeviceKeys } from "./device-keys.ts";
import { verifyDeviceCertificate } from "./account-key.ts";
import { identityCredential, requireIdentity } from "./identity.ts";
import { CryptoError, type DeviceCredential, type DeviceKeys, type KeyPackageBundle } from "./types.ts";
import { decodeWire, encodeWire } from "./wire.ts";

/** RFC 9420 registry value of the last_resort KeyPackage extension. */
const LAST_RESORT_EXTENSION = 0x000a;
/** A KeyPackage is usable for this long after creation; the SDK must replace older ones (last resort included). */
export const KEY_PACKAGE_LIFETIME_SECONDS = 90 * 24 * 60 * 60;
/** Tolerated clock skew between the creator and whoever adds the KeyPackage. */
const CLOCK_SKEW_SECONDS = 60 * 60;

const PRIVATE_PACKAGE_VERSION = 1;
const BUNDLE_VERSION = 1;

/** What every Sori leaf advertises: one suite, basic credentials, no greasing (keeps leaves deterministic). */
export function soriCapabilities(): Capabilities {
  return {
    versions: ["mls10"],
    ciphersuites: [CIPHER_SUITE],
    extensions: [LAST_RESORT_EXTENSION],
    proposals: [],
    credentials: ["basic"],
  };
}

/** Builds a KeyPackage (and its private keys) for this device; shared by generateKeyPackage and createGroup. */
export async function buildKeyPackage(
  identity: DeviceCredential,
  keys: DeviceKeys,
  lastResort: boolean,
): Promise<{ publicPackage: KeyPackage; privatePackage: PrivateKeyPackage }> {
  const credential = identityCredential(identity);
  checkDeviceKeys(keys);
  // Everyone would refuse it: fail here, where the mistake is, rather than at every member.
  if (!verifyDeviceCertificate(identity, keys.signaturePublicKey))
    throw new CryptoError("invalid-credential", "the device certificate is not for these device keys");
  const cs = await cipherSuite();
  const now = BigInt(Math.floor(Date.now() / 1000));
  const lifetime = {
    notBefore: now - BigInt(CLOCK_SKEW_SECONDS),
    notAfter: now + BigInt(KEY_PACKAGE_LIFETIME_SECONDS),
  };
  const extensions = lastResort
    ? [{ extensionType: LAST_RESORT_EXTENSION, extensionData: new Uint8Array() }]
    : [];
  return generateKeyPackageWithKey(
    credential,
    soriCapabilities(),
    lifetime,
    extensions,
    { signKey: keys.signaturePrivateKey, publicKey: keys.signaturePublicKey },
    cs,
  );
}

/** Creates a KeyPackage to upload; `lastResort` marks the one the server may hand out repeatedly. */
export async function generateKeyPackage(
  identity: DeviceCredential,
  keys: DeviceKeys,
  options?: { lastResort?: boolean },
): Promise<KeyPackageBundle> {
  const lastResort = options?.lastResort === true;
  const { publicPackage, privatePackage } = await buildKeyPackage(identity, keys, lastResort);
  return {
    publicKeyPackage: encodeWire({ wireformat: "mls_key_package", keyPackage: publicPackage }),
    privateKeyPackage: encodePrivateKeyPackage(privatePackage),
    ref: await keyPackageRef(publicPackage),
    lastResort,
  };
}

/** KeyPackageRef (RFC 9420 §5.2) as base64url. */
async function keyPackageRef(keyPackage: KeyPackage): Promise<string> {
  return toBase64Url(await makeKeyPackageRef(keyPackage, (await cipherSuite()).hash));
}

/** Decodes an encoded MLSMessage(KeyPackage) of our cipher suite; "malformed" otherwise. */
export function decodeKeyPackage(bytes: Uint8Array): KeyPackage {
  const message = decodeWire(bytes, "KeyPackage");
  if (message.wireformat !== "mls_key_package") throw new CryptoError("malformed", "not a KeyPackage");
  if (message.keyPackage.cipherSuite !== CIPHER_SUITE) {
    throw new CryptoError("malformed", "KeyPackage uses an unsupported cipher suite");
  }
  return message.keyPackage;
}

/**
 * Reads who an encoded KeyPackage claims to be. `certified` says whether its account signature
 * verifies; whether that account key is the user's is the caller's to decide. `notAfter` (Unix
 * seconds) lets servers and SDKs drop expired packages.
 */
export function keyPackageIdentity(keyPackage: Uint8Array): {
  identity: DeviceCredential;
  signaturePublicKey: Uint8Array;
  certified: boolean;
  notAfter: number;
} {
  const decoded = decodeKeyPackage(keyPackage);
  const leaf = decoded.leafNode;
  const identity = requireIdentity(leaf.credential, "malformed");
  return {
    identity,
    signaturePublicKey: leaf.signaturePublicKey,
    certified: verifyDeviceCertificate(identity, leaf.signaturePublicKey),
    notAfter: Number(leaf.lifetime.notAfter),
  };
}

/** Our private-package encoding. The signature key is left out: it lives in DeviceKeys, stored once. */
function encodePrivateKeyPackage(p: PrivateKeyPackage): Uint8Array {
  return new ByteWriter()
    .u8(PRIVATE_PACKAGE_VERSION)
    .bytes(p.initPrivateKey)
    .bytes(p.hpkePrivateKey)
    .finish();
}

/** Restores the ts-mls private package, re-attaching the device's signature key. */
export function decodePrivateKeyPackage(bytes: Uint8Array, keys: DeviceKeys): PrivateKeyPackage {
  const reader = new ByteReader(bytes, "private KeyPackage");
  const version = reader.u8();
  if (version !== PRIVATE_PACKAGE_VERSION) {
    throw new CryptoError("malformed", `private KeyPackage: unknown version ${version}`);
  }
  const initPrivateKey = reader.bytes();
  const hpkePrivateKey = reader.bytes();
  reader.end();
  return { initPrivateKey, hpkePrivateKey, signaturePrivateKey: keys.signaturePrivateKey };
}

/** Serialises a bundle for local storage (it contains private keys: store it encrypted at rest). */
export function encodeKeyPackageBundle(b: KeyPackageBundle): Uint8Array {
  return new ByteWriter()
    .u8(BUNDLE_VERSION)
    .bytes(b.publicKeyPackage)
    .bytes(b.privateKeyPackage)
    .bytes(utf8(b.ref))
    .u8(b.lastResort ? 1 : 0)
    .finish();
}

/** Inverse of encodeKeyPackageBundle; "malformed" on anything else. */
export function decodeKeyPackageBundle(bytes: Uint8Array): KeyPackageBundle {
  const reader = new ByteReader(bytes, "KeyPackage bundle");
  const version = reader.u8();
  if (version !== BUNDLE_VERSION)
    throw new CryptoError("malformed", `KeyPackage bundle: unknown version ${version}`);
  const publicKeyPackage = reader.bytes();
  const privateKeyPackage = reader.bytes();
  const ref = fromUtf8(reader.bytes());
  const flag = reader.u8();
  reader.end();
  if (flag > 1) throw new CryptoError("malformed", "KeyPackage bundle: bad lastResort flag");
  return { publicKeyPackage, privateKeyPackage, ref, lastResort: flag === 1 };
}
