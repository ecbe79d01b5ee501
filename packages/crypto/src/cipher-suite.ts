import {
  type CiphersuiteImpl,
  type CiphersuiteName,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
} from "ts-mls";

/** The only cipher suite Sori speaks (RFC 9420 suite 0x0001). */
export const CIPHER_SUITE: CiphersuiteName = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

let cached: Promise<CiphersuiteImpl> | undefined;

/** The ts-mls implementation of CIPHER_SUITE, built once per process (it probes WebCrypto). */
export function cipherSuite(): Promise<CiphersuiteImpl> {
  cached ??= getCiphersuiteImpl(getCiphersuiteFromName(CIPHER_SUITE));
  return cached;
}
