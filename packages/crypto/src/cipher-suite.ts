import {
  type CiphersuiteImpl,
  type CiphersuiteName,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
} from "ts-mls";
import { webCryptoEd25519 } from "./ed25519-webcrypto.ts";

/** The only cipher suite Sori speaks (RFC 9420 suite 0x0001). */
export const CIPHER_SUITE: CiphersuiteName = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

let cached: Promise<CiphersuiteImpl> | undefined;

/**
 * The ts-mls implementation of CIPHER_SUITE, built once per process (it probes WebCrypto), with
 * Ed25519 through WebCrypto where the platform has it: every message is signed and verified, and
 * that was most of a message's CPU in pure JavaScript.
 */
export function cipherSuite(): Promise<CiphersuiteImpl> {
  cached ??= getCiphersuiteImpl(getCiphersuiteFromName(CIPHER_SUITE)).then(async (impl) => ({
    ...impl,
    signature: await webCryptoEd25519(impl.signature),
  }));
  return cached;
}
