import { ed25519 } from "@noble/curves/ed25519.js";
import { ByteReader, ByteWriter, bytesEqual, utf8 } from "./bytes.ts";
import { memberOf, parseCredential } from "./identity.ts";
import { type MlsGroup, unwrapGroup } from "./group.ts";
import { CryptoError, type DeviceKeys, type MemberIdentity } from "./types.ts";

const LABEL = utf8("sori rejoin request v1");
const VERSION = 1;

/**
 * A device that missed a commit cannot decrypt anything after it. It asks the other members to re-add
 * it, naming its leaf by the leaf's HPKE key and signing the request with its device key: members
 * re-add it only while that very leaf is still in their tree (so each fall is repaired once), and the
 * server, which has neither the tree nor the key, can forge no such request.
 */
export function rejoinRequest(group: MlsGroup, keys: DeviceKeys): Uint8Array {
  const state = unwrapGroup(group);
  const node = state.ratchetTree[state.privatePath.leafIndex * 2];
  if (node?.nodeType !== "leaf") throw new CryptoError("internal", "rejoinRequest: own leaf missing");
  const body = new ByteWriter()
    .u8(VERSION)
    .bytes(state.groupContext.groupId)
    .bytes(node.leaf.hpkePublicKey)
    .finish();
  const signature = ed25519.sign(new ByteWriter().raw(LABEL).raw(body).finish(), keys.signaturePrivateKey);
  return new ByteWriter().bytes(body).bytes(signature).finish();
}

/**
 * The member a rejoin request is from, if it is genuine and that member's leaf in `group` is still
 * the one it fell behind with; undefined otherwise (malformed, forged, for another group, or already
 * re-added).
 */
export function verifyRejoinRequest(group: MlsGroup, request: Uint8Array): MemberIdentity | undefined {
  let body: Uint8Array;
  let signature: Uint8Array;
  let groupId: Uint8Array;
  let leafKey: Uint8Array;
  try {
    const outer = new ByteReader(request, "rejoin request");
    body = outer.bytes();
    signature = outer.bytes();
    outer.end();
    const inner = new ByteReader(body, "rejoin request");
    if (inner.u8() !== VERSION) return undefined;
    groupId = inner.bytes();
    leafKey = inner.bytes();
    inner.end();
  } catch {
    return undefined;
  }
  const state = unwrapGroup(group);
  if (!bytesEqual(groupId, state.groupContext.groupId)) return undefined;
  for (let i = 0; i < state.ratchetTree.length; i += 2) {
    const node = state.ratchetTree[i];
    if (node?.nodeType !== "leaf" || !bytesEqual(node.leaf.hpkePublicKey, leafKey)) continue;
    if (i / 2 === state.privatePath.leafIndex) return undefined;
    const identity = parseCredential(node.leaf.credential);
    let ok: boolean;
    try {
      ok = ed25519.verify(
        signature,
        new ByteWriter().raw(LABEL).raw(body).finish(),
        node.leaf.signaturePublicKey,
      );
    } catch {
      // A malformed signature is a failed check.
      ok = false;
    }
    return ok && identity ? memberOf(identity) : undefined;
  }
  return undefined;
}
