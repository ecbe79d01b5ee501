/**
 * The public, sans-I/O interface of Sori's end-to-end encryption. Only this package imports ts-mls;
 * everything else (SDK, tests) uses these types and the functions exported from index.ts.
 * No function here touches the network or storage: callers pass bytes in and get bytes out.
 */

/** Who an MLS leaf belongs to. Carried in the leaf's basic credential as UTF-8 `userId/deviceId`. */
export type MemberIdentity = {
  userId: string;
  deviceId: string;
};

/**
 * A device's MLS credential: who it is, and its account's signature vouching for its signature key.
 * Encoded into the leaf's basic credential (identity.ts); a leaf whose certificate does not verify is
 * refused before anyone is asked.
 */
export type DeviceCredential = MemberIdentity & {
  /** The account identity key (Ed25519 public key) that signed this device in. */
  accountKey: Uint8Array;
  /** The account key's signature over (user id, device id, device signature key). */
  certificate: Uint8Array;
};

/** A member whose certificate verified: the validator decides whether `accountKey` is the user's. */
export type CertifiedMember = MemberIdentity & { accountKey: Uint8Array };

/** A device's long-term MLS signature key pair (Ed25519). The private half never leaves the device. */
export type DeviceKeys = {
  signaturePublicKey: Uint8Array;
  signaturePrivateKey: Uint8Array;
};

/** One KeyPackage: the public part is uploaded to the server, the private part stays on the device. */
export type KeyPackageBundle = {
  /** Encoded MLSMessage(KeyPackage), what the server stores and hands to claimers. */
  publicKeyPackage: Uint8Array;
  /** Our own encoding of the private package (init + encryption private keys). */
  privateKeyPackage: Uint8Array;
  /** KeyPackageRef (RFC 9420 §5.2), base64url, to find the private part when a Welcome arrives. */
  ref: string;
  lastResort: boolean;
};

/**
 * Decides whether a certified member is genuine: the certificate already verified against
 * `member.accountKey`, so the SDK decides whether that is the account key it knows for the user
 * (and whether the device may be in the group). ts-mls alone would accept anything.
 */
export type CredentialValidator = (
  member: CertifiedMember,
  signaturePublicKey: Uint8Array,
) => Promise<boolean>;

/** A member of a group as this device sees it in the current epoch. */
export type GroupMember = MemberIdentity & {
  leafIndex: number;
  signaturePublicKey: Uint8Array;
  /** The account key the member's certificate chains to. */
  accountKey: Uint8Array;
};

/** Result of processing one incoming MLS message (application message or commit). */
export type IncomingMessage<G> =
  | {
      kind: "application";
      group: G;
      sender: MemberIdentity;
      plaintext: Uint8Array;
      epoch: bigint;
    }
  | {
      kind: "commit";
      group: G;
      sender: MemberIdentity | undefined;
      /** The epoch the group is in after the commit. */
      epoch: bigint;
      added: MemberIdentity[];
      removed: MemberIdentity[];
      /** True when this commit removed us: the group is no longer usable. */
      selfRemoved: boolean;
    };

/** What the cleartext framing of an MLS message tells without any key (used for routing and checks). */
export type MessageHeader = {
  wireFormat: "public" | "private" | "welcome" | "group-info" | "key-package";
  /** base64url of the group id; undefined for welcome and key-package. */
  groupId: string | undefined;
  epoch: bigint | undefined;
  contentType: "application" | "proposal" | "commit" | undefined;
};

export type CryptoErrorCode =
  | "invalid-credential"
  | "malformed"
  | "wrong-group"
  | "wrong-epoch"
  | "not-member"
  | "decrypt-failed"
  | "no-key-package"
  | "internal";

/** Why a credential was refused (reported with "invalid-credential"). */
export type RefusedCredential = MemberIdentity & {
  /** "uncertified": its account signature does not verify; "rejected": the validator said no. */
  reason: "uncertified" | "rejected" | "foreign";
  accountKey?: Uint8Array;
};

/** Every failure of this package is a CryptoError with a code; messages never contain key material. */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  /** For "invalid-credential": which credentials were refused, and why. */
  readonly refused: RefusedCredential[];
  constructor(
    code: CryptoErrorCode,
    message: string,
    options?: { cause?: unknown; refused?: RefusedCredential[] },
  ) {
    super(message, options);
    this.name = "CryptoError";
    this.code = code;
    this.refused = options?.refused ?? [];
  }
}
