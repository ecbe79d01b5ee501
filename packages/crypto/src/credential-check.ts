import type { AuthenticationService, ClientConfig, Credential } from "ts-mls";
import { defaultClientConfig } from "ts-mls/clientConfig.js";
import { verifyDeviceCertificate } from "./account-key.ts";
import { toBase64Url } from "./bytes.ts";
import { parseCredential } from "./identity.ts";
import type { CredentialValidator, DeviceCredential, RefusedCredential } from "./types.ts";

/**
 * One operation's view of the caller's CredentialValidator. ts-mls only reports "could not validate
 * credential" as a generic ValidationError, so the check records what happened to let us turn the
 * failure into the right CryptoError code (and say which credentials were refused) afterwards.
 */
export type CredentialCheck = {
  /** ClientConfig whose authentication service asks the validator (fail closed on foreign credentials). */
  config: ClientConfig;
  /**
   * Verifies the certificate against the leaf's signature key, then asks the validator, once per
   * (credential, key) within this operation.
   */
  check(credential: DeviceCredential, signaturePublicKey: Uint8Array): Promise<boolean>;
  /** True once any credential was refused (or was not a Sori credential). */
  readonly rejected: boolean;
  /** Every credential refused so far, and why. */
  readonly refused: RefusedCredential[];
  /** Set when the validator itself threw (e.g. the SDK could not reach the directory). */
  readonly validatorError: unknown;
};

/** Builds the per-operation credential check around the caller's validator. */
export function credentialCheck(validate: CredentialValidator): CredentialCheck {
  // The same leaf is often validated several times by ts-mls within one operation (tree validation,
  // signer check, our own pass); the validator may hit the network, so ask it once.
  const memo = new Map<string, Promise<boolean>>();
  const state = { validatorError: undefined as unknown, refused: [] as RefusedCredential[] };

  const refuse = (
    c: { userId: string; deviceId: string; accountKey?: Uint8Array },
    reason: RefusedCredential["reason"],
  ): false => {
    if (!state.refused.some((r) => r.userId === c.userId && r.deviceId === c.deviceId && r.reason === reason))
      state.refused.push({
        userId: c.userId,
        deviceId: c.deviceId,
        reason,
        ...(c.accountKey ? { accountKey: c.accountKey } : {}),
      });
    return false;
  };

  const check = (credential: DeviceCredential, signaturePublicKey: Uint8Array): Promise<boolean> => {
    const key = `${credential.userId}/${credential.deviceId}#${toBase64Url(credential.accountKey)}#${toBase64Url(signaturePublicKey)}#${toBase64Url(credential.certificate)}`;
    let result = memo.get(key);
    if (result === undefined) {
      const member = {
        userId: credential.userId,
        deviceId: credential.deviceId,
        accountKey: credential.accountKey,
      };
      result = verifyDeviceCertificate(credential, signaturePublicKey)
        ? validate(member, signaturePublicKey).then(
            (ok) => (ok === true ? true : refuse(member, "rejected")),
            (error: unknown) => {
              state.validatorError = error;
              return refuse(member, "rejected");
            },
          )
        : Promise.resolve(refuse(member, "uncertified"));
      memo.set(key, result);
    }
    return result;
  };

  const authService: AuthenticationService = {
    async validateCredential(credential: Credential, signaturePublicKey: Uint8Array): Promise<boolean> {
      const parsed = parseCredential(credential);
      if (parsed === undefined) return refuse({ userId: "?", deviceId: "?" }, "foreign");
      return check(parsed, signaturePublicKey);
    },
  };

  return {
    config: { ...defaultClientConfig, authService },
    check,
    get rejected() {
      return state.refused.length > 0;
    },
    get refused() {
      return state.refused;
    },
    get validatorError() {
      return state.validatorError;
    },
  };
}

/**
 * The config kept inside a stored MlsGroup between operations. Operations that may meet new
 * credentials swap in a CredentialCheck's config; this one rejects everything so that a code path
 * we did not anticipate fails closed instead of trusting a credential nobody checked.
 */
export const restingClientConfig: ClientConfig = {
  ...defaultClientConfig,
  authService: {
    async validateCredential(): Promise<boolean> {
      return false;
    },
  },
};
