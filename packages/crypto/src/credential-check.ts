import type { AuthenticationService, ClientConfig, Credential } from "ts-mls";
import { defaultClientConfig } from "ts-mls/clientConfig.js";
import { toBase64Url } from "./bytes.ts";
import { parseCredential } from "./identity.ts";
import type { CredentialValidator, MemberIdentity } from "./types.ts";

/**
 * One operation's view of the caller's CredentialValidator. ts-mls only reports "could not validate
 * credential" as a generic ValidationError, so the check records what happened to let us turn the
 * failure into the right CryptoError code afterwards.
 */
export type CredentialCheck = {
  /** ClientConfig whose authentication service asks the validator (fail closed on foreign credentials). */
  config: ClientConfig;
  /** Asks the validator once per (identity, key) within this operation. */
  check(identity: MemberIdentity, signaturePublicKey: Uint8Array): Promise<boolean>;
  /** True once any credential was rejected (or was not a Sori identity). */
  readonly rejected: boolean;
  /** Set when the validator itself threw (e.g. the SDK could not reach the directory). */
  readonly validatorError: unknown;
};

/** Builds the per-operation credential check around the caller's validator. */
export function credentialCheck(validate: CredentialValidator): CredentialCheck {
  // The same leaf is often validated several times by ts-mls within one operation (tree validation,
  // signer check, our own pass); the validator may hit the network, so ask it once.
  const memo = new Map<string, Promise<boolean>>();
  const state = { rejected: false, validatorError: undefined as unknown };

  const check = (identity: MemberIdentity, signaturePublicKey: Uint8Array): Promise<boolean> => {
    const key = `${identity.userId}/${identity.deviceId}#${toBase64Url(signaturePublicKey)}`;
    let result = memo.get(key);
    if (result === undefined) {
      result = validate(identity, signaturePublicKey).then(
        (ok) => {
          if (ok !== true) state.rejected = true;
          return ok === true;
        },
        (error: unknown) => {
          state.validatorError = error;
          state.rejected = true;
          return false;
        },
      );
      memo.set(key, result);
    }
    return result;
  };

  const authService: AuthenticationService = {
    async validateCredential(credential: Credential, signaturePublicKey: Uint8Array): Promise<boolean> {
      const identity = parseCredential(credential);
      if (identity === undefined) {
        state.rejected = true;
        return false;
      }
      return check(identity, signaturePublicKey);
    },
  };

  return {
    config: { ...defaultClientConfig, authService },
    check,
    get rejected() {
      return state.rejected;
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
