import {
  type ClientState,
  createApplicationMessage,
  emptyPskIndex,
  type IncomingMessageCallback,
  type ProposalWithSender,
  processPrivateMessage,
} from "ts-mls";
import { decryptSenderData } from "ts-mls/privateMessage.js";
import { bytesEqual } from "./bytes.ts";
import { cipherSuite } from "./cipher-suite.ts";
import { credentialCheck } from "./credential-check.ts";
import { toCryptoError } from "./errors.ts";
import { type MlsGroup, requireActive, unwrapGroup, wrapGroup } from "./group.ts";
import type { CredentialCheck } from "./credential-check.ts";
import { memberOf, parseCredential, requireIdentity, sameIdentity } from "./identity.ts";
import { pad, unpad } from "./padding.ts";
import { type CredentialValidator, CryptoError, type IncomingMessage, type MemberIdentity } from "./types.ts";
import { decodeWire, encodeWire } from "./wire.ts";

/** Encrypts an application message for the current epoch (padded with Padmé, at least 256 bytes by MLS). */
export async function encrypt(
  group: MlsGroup,
  plaintext: Uint8Array,
): Promise<{ group: MlsGroup; message: Uint8Array }> {
  const state = unwrapGroup(group);
  requireActive(state);
  if (!(plaintext instanceof Uint8Array))
    throw new CryptoError("malformed", "encrypt: plaintext must be bytes");
  try {
    const { newState, privateMessage } = await createApplicationMessage(
      state,
      pad(plaintext),
      await cipherSuite(),
    );
    return {
      group: wrapGroup(newState),
      message: encodeWire({ wireformat: "mls_private_message", privateMessage }),
    };
  } catch (error) {
    throw toCryptoError(error, "encrypt", "internal");
  }
}

/**
 * Decrypts an application message or applies another member's commit. New leaves (and any leaf a
 * commit rewrites) are checked with `validate`. Processing the same message twice fails
 * ("decrypt-failed" for application messages, "wrong-epoch" for commits), as does processing one's
 * own messages: the SDK must recognise its own echoes.
 */
export async function processMessage(
  group: MlsGroup,
  message: Uint8Array,
  validate: CredentialValidator,
): Promise<IncomingMessage<MlsGroup>> {
  const check = credentialCheck(validate);
  const state = unwrapGroup(group, check.config);
  requireActive(state);

  const decoded = decodeWire(message, "processMessage");
  if (decoded.wireformat !== "mls_private_message") {
    // Sori only ever sends PrivateMessages; PublicMessage/external commits are not part of the protocol.
    throw new CryptoError("malformed", `processMessage: unexpected wire format ${decoded.wireformat}`);
  }
  const pm = decoded.privateMessage;
  if (!bytesEqual(pm.groupId, state.groupContext.groupId)) {
    throw new CryptoError("wrong-group", "processMessage: message is for another group");
  }
  if (pm.contentType === "proposal") {
    throw new CryptoError("malformed", "processMessage: standalone proposals are not supported");
  }
  const current = state.groupContext.epoch;
  const epochKnown =
    pm.epoch === current ||
    (pm.contentType === "application" && pm.epoch < current && state.historicalReceiverData.has(pm.epoch));
  if (!epochKnown) {
    throw new CryptoError(
      "wrong-epoch",
      `processMessage: ${pm.contentType} for epoch ${pm.epoch}, group is at epoch ${current}`,
    );
  }

  let commit: { senderLeafIndex: number | undefined; proposals: ProposalWithSender[] } | undefined;
  let unsupported = false;
  const onIncoming: IncomingMessageCallback = (incoming) => {
    if (incoming.kind !== "commit") return "reject";
    commit = { senderLeafIndex: incoming.senderLeafIndex, proposals: incoming.proposals };
    // Our clients only commit adds and removes (plus the committer's own path update); anything else
    // (reinit, PSKs, extension changes) would change the group under the SDK's feet.
    unsupported = incoming.proposals.some(
      (p) => p.proposal.proposalType !== "add" && p.proposal.proposalType !== "remove",
    );
    return unsupported ? "reject" : "accept";
  };

  const cs = await cipherSuite();
  let result: Awaited<ReturnType<typeof processPrivateMessage>>;
  try {
    result = await processPrivateMessage(state, pm, emptyPskIndex, cs, onIncoming);
  } catch (error) {
    throw toCryptoError(error, "processMessage", "decrypt-failed", check);
  }

  if (result.kind === "applicationMessage") {
    // ts-mls does not say who sent an application message; it authenticated the sender from the
    // encrypted sender data, so decrypt that again with the same epoch's secret to learn the leaf.
    const receiver =
      pm.epoch === current
        ? { senderDataSecret: state.keySchedule.senderDataSecret, ratchetTree: state.ratchetTree }
        : state.historicalReceiverData.get(pm.epoch);
    const senderData =
      receiver === undefined ? undefined : await decryptSenderData(pm, receiver.senderDataSecret, cs);
    const sender =
      senderData === undefined || receiver === undefined
        ? undefined
        : identityAt(receiver.ratchetTree, senderData.leafIndex);
    if (sender === undefined)
      throw new CryptoError("internal", "processMessage: sender of a verified message unknown");
    return {
      kind: "application",
      group: wrapGroup(result.newState),
      sender,
      plaintext: unpad(result.message),
      epoch: pm.epoch,
    };
  }

  if (unsupported)
    throw new CryptoError("malformed", "processMessage: commit contains unsupported proposals");
  if (commit === undefined || result.actionTaken !== "accept") {
    throw new CryptoError("internal", "processMessage: commit was not applied");
  }
  return describeCommit(state, result.newState, commit, pm.epoch, check);
}

/** Works out who was added and removed, and re-checks every leaf the commit introduced or rewrote. */
async function describeCommit(
  before: ClientState,
  after: ClientState,
  commit: { senderLeafIndex: number | undefined; proposals: ProposalWithSender[] },
  commitEpoch: bigint,
  credentials: CredentialCheck,
): Promise<IncomingMessage<MlsGroup>> {
  const check = credentials.check;
  const added: MemberIdentity[] = [];
  const removed: MemberIdentity[] = [];
  const removedLeaves = new Set<number>();
  for (const { proposal } of commit.proposals) {
    if (proposal.proposalType === "add") {
      const leaf = proposal.add.keyPackage.leafNode;
      const identity = requireIdentity(leaf.credential, "invalid-credential");
      if (!(await check(identity, leaf.signaturePublicKey))) {
        throw new CryptoError("invalid-credential", "processMessage: commit adds a rejected credential", {
          refused: credentials.refused,
        });
      }
      added.push(memberOf(identity));
    } else if (proposal.proposalType === "remove") {
      removedLeaves.add(proposal.remove.removed);
      const identity = identityAt(before.ratchetTree, proposal.remove.removed);
      if (identity !== undefined) removed.push(identity);
    }
  }

  // A leaf that survives the commit must still name the same device: MLS lets a committer replace its
  // own leaf (credential included), and the AS must make sure it did not turn into someone else.
  const width = Math.min(before.ratchetTree.length, after.ratchetTree.length);
  for (let nodeIndex = 0; nodeIndex < width; nodeIndex += 2) {
    const old = before.ratchetTree[nodeIndex];
    const now = after.ratchetTree[nodeIndex];
    if (old?.nodeType !== "leaf" || now?.nodeType !== "leaf" || removedLeaves.has(nodeIndex / 2)) continue;
    if (old.leaf === now.leaf) continue;
    const oldIdentity = parseCredential(old.leaf.credential);
    const newIdentity = parseCredential(now.leaf.credential);
    if (oldIdentity === undefined || newIdentity === undefined || !sameIdentity(oldIdentity, newIdentity)) {
      throw new CryptoError("invalid-credential", "processMessage: commit changes a member's identity");
    }
    if (!(await check(newIdentity, now.leaf.signaturePublicKey))) {
      throw new CryptoError("invalid-credential", "processMessage: commit carries a rejected credential", {
        refused: credentials.refused,
      });
    }
  }

  const selfRemoved = after.groupActiveState.kind === "removedFromGroup";
  return {
    kind: "commit",
    group: wrapGroup(after),
    sender:
      commit.senderLeafIndex === undefined
        ? undefined
        : identityAt(before.ratchetTree, commit.senderLeafIndex),
    // A removed member's state stays in the old epoch (it cannot derive the new one).
    epoch: selfRemoved ? commitEpoch + 1n : after.groupContext.epoch,
    added,
    removed,
    selfRemoved,
  };
}

function identityAt(tree: ClientState["ratchetTree"], leafIndex: number): MemberIdentity | undefined {
  const node = tree[leafIndex * 2];
  const credential = node?.nodeType === "leaf" ? parseCredential(node.leaf.credential) : undefined;
  return credential && memberOf(credential);
}
