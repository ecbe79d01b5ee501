import { type ClientConfig, type ClientState, decodeGroupState, encodeGroupState } from "ts-mls";
import { CIPHER_SUITE } from "./cipher-suite.ts";
import { restingClientConfig } from "./credential-check.ts";
import { parseCredential } from "./identity.ts";
import { CryptoError, type GroupMember } from "./types.ts";

const STATE: unique symbol = Symbol("sori.mls-group");
const GROUP_ENCODING_VERSION = 1;

/**
 * One device's view of an MLS group in one epoch. Opaque and immutable: every operation returns a
 * new MlsGroup, and the caller decides which one to keep (e.g. only after the server accepted a commit).
 */
export type MlsGroup = { readonly [STATE]: ClientState };

/** Wraps a ts-mls state, parking it with the fail-closed resting config. */
export function wrapGroup(state: ClientState): MlsGroup {
  return Object.freeze({ [STATE]: { ...state, clientConfig: restingClientConfig } });
}

/** The ts-mls state inside a group, optionally with an operation's own config swapped in. */
export function unwrapGroup(group: MlsGroup, config?: ClientConfig): ClientState {
  const state = typeof group === "object" && group !== null ? group[STATE] : undefined;
  if (state === undefined) throw new CryptoError("internal", "not an MlsGroup");
  return config === undefined ? state : { ...state, clientConfig: config };
}

/** Fails with "not-member" when this device was removed from the group. */
export function requireActive(state: ClientState): void {
  if (state.groupActiveState.kind !== "active") {
    throw new CryptoError("not-member", "this device is no longer a member of the group");
  }
}

/** The members of the current epoch, in leaf order. */
export function groupMembers(group: MlsGroup): GroupMember[] {
  return membersOfTree(unwrapGroup(group).ratchetTree);
}

/** Members of a ratchet tree; leaves with a foreign credential (never admitted by us) are skipped. */
export function membersOfTree(tree: ClientState["ratchetTree"]): GroupMember[] {
  const members: GroupMember[] = [];
  // Leaves sit at even node indices; leaf index = node index / 2.
  for (let nodeIndex = 0; nodeIndex < tree.length; nodeIndex += 2) {
    const node = tree[nodeIndex];
    if (node?.nodeType !== "leaf") continue;
    const identity = parseCredential(node.leaf.credential);
    if (identity === undefined) continue;
    members.push({
      userId: identity.userId,
      deviceId: identity.deviceId,
      accountKey: identity.accountKey,
      leafIndex: nodeIndex / 2,
      signaturePublicKey: node.leaf.signaturePublicKey,
    });
  }
  return members;
}

/** Current epoch (a removed member stays at the epoch it was removed in). */
export function groupEpoch(group: MlsGroup): bigint {
  return unwrapGroup(group).groupContext.epoch;
}

/** The MLS group id. */
export function groupIdOf(group: MlsGroup): Uint8Array {
  return unwrapGroup(group).groupContext.groupId;
}

/** False once this device has been removed from the group. */
export function isActive(group: MlsGroup): boolean {
  return unwrapGroup(group).groupActiveState.kind === "active";
}

/** Serialises the full group state for storage. It contains private keys: store it encrypted at rest. */
export function encodeGroup(group: MlsGroup): Uint8Array {
  const body = encodeGroupState(unwrapGroup(group));
  const out = new Uint8Array(body.length + 1);
  out[0] = GROUP_ENCODING_VERSION;
  out.set(body, 1);
  return out;
}

/** Inverse of encodeGroup; "malformed" on anything else. */
export function decodeGroup(bytes: Uint8Array): MlsGroup {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2)
    throw new CryptoError("malformed", "group state: too short");
  if (bytes[0] !== GROUP_ENCODING_VERSION) {
    throw new CryptoError("malformed", `group state: unknown version ${bytes[0]}`);
  }
  let decoded: ReturnType<typeof decodeGroupState>;
  try {
    decoded = decodeGroupState(bytes, 1);
  } catch (cause) {
    throw new CryptoError("malformed", "group state: undecodable", { cause });
  }
  if (decoded === undefined) throw new CryptoError("malformed", "group state: undecodable");
  // ts-mls decoders return the number of bytes consumed, not the end offset.
  if (decoded[1] !== bytes.length - 1) throw new CryptoError("malformed", "group state: trailing bytes");
  if (decoded[0].groupContext.cipherSuite !== CIPHER_SUITE) {
    throw new CryptoError("malformed", "group state: unsupported cipher suite");
  }
  // The encoding carries no ClientConfig; wrapGroup attaches ours.
  return wrapGroup({ ...decoded[0], clientConfig: restingClientConfig });
}
