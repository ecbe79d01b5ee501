import {
  type ClientState,
  createCommit,
  emptyPskIndex,
  joinGroup,
  type KeyPackage,
  type Proposal,
  createGroup as tsCreateGroup,
} from "ts-mls";
import { makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { decryptGroupInfo, decryptGroupSecrets, type Welcome } from "ts-mls/welcome.js";
import { bytesEqual, toBase64Url } from "./bytes.ts";
import { CIPHER_SUITE, cipherSuite } from "./cipher-suite.ts";
import { credentialCheck, restingClientConfig } from "./credential-check.ts";
import { toCryptoError } from "./errors.ts";
import { type MlsGroup, membersOfTree, requireActive, unwrapGroup, wrapGroup } from "./group.ts";
import { memberOf, parseCredential, requireIdentity, sameIdentity } from "./identity.ts";
import { buildKeyPackage, decodeKeyPackage, decodePrivateKeyPackage } from "./key-package.ts";
import {
  type CredentialValidator,
  CryptoError,
  type DeviceCredential,
  type DeviceKeys,
  type KeyPackageBundle,
  type MemberIdentity,
} from "./types.ts";
import { decodeWire, encodeWire } from "./wire.ts";

/** Starts a new group (epoch 0) with this device as its only member. */
export async function createGroup(
  identity: DeviceCredential,
  keys: DeviceKeys,
  groupId: Uint8Array,
): Promise<MlsGroup> {
  if (!(groupId instanceof Uint8Array) || groupId.length === 0) {
    throw new CryptoError("malformed", "createGroup: groupId must be non-empty bytes");
  }
  const { publicPackage, privatePackage } = await buildKeyPackage(identity, keys, false);
  try {
    const state = await tsCreateGroup(
      groupId,
      publicPackage,
      privatePackage,
      [],
      await cipherSuite(),
      restingClientConfig,
    );
    return wrapGroup(state);
  } catch (error) {
    throw toCryptoError(error, "createGroup", "internal");
  }
}

/**
 * One commit that removes devices and adds others by their KeyPackages (a device can be in both: it
 * is re-added with a fresh KeyPackage, e.g. after it missed a commit). Every new credential is checked
 * with `validate` before anything is signed. The returned group is already in the new epoch: keep it
 * only once the server accepted `commit`; otherwise keep the old group and retry.
 */
export async function commitChanges(
  group: MlsGroup,
  changes: { remove: MemberIdentity[]; add: Uint8Array[] },
  validate: CredentialValidator,
): Promise<{
  group: MlsGroup;
  commit: Uint8Array;
  welcome: Uint8Array | undefined;
  added: MemberIdentity[];
  removed: MemberIdentity[];
}> {
  const check = credentialCheck(validate);
  const state = unwrapGroup(group, check.config);
  requireActive(state);
  if (changes.add.length === 0 && changes.remove.length === 0)
    throw new CryptoError("malformed", "commitChanges: nothing to change");

  const ownLeaf = state.privatePath.leafIndex;
  const targets = membersOfTree(state.ratchetTree).filter((m) =>
    changes.remove.some((wanted) => sameIdentity(m, wanted)),
  );
  if (targets.some((m) => m.leafIndex === ownLeaf)) {
    // MLS forbids committing one's own removal; leaving needs another member to commit it.
    throw new CryptoError("not-member", "removeMembers: a device cannot remove itself");
  }
  if (changes.remove.length > 0 && targets.length === 0)
    throw new CryptoError("not-member", "removeMembers: none of these devices is a member");

  const decoded: { keyPackage: KeyPackage; identity: DeviceCredential }[] = changes.add.map((bytes) => {
    const keyPackage = decodeKeyPackage(bytes);
    return { keyPackage, identity: requireIdentity(keyPackage.leafNode.credential, "invalid-credential") };
  });
  const verdicts = await Promise.all(
    decoded.map(({ keyPackage, identity }) => check.check(identity, keyPackage.leafNode.signaturePublicKey)),
  );
  if (verdicts.some((ok) => !ok)) throw toCryptoError(undefined, "addMembers", "invalid-credential", check);

  try {
    const result = await createCommit(
      { state, cipherSuite: await cipherSuite() },
      {
        extraProposals: [
          ...targets.map((m): Proposal => ({ proposalType: "remove", remove: { removed: m.leafIndex } })),
          ...decoded.map(({ keyPackage }): Proposal => ({ proposalType: "add", add: { keyPackage } })),
        ],
        // Joiners get the tree inside the Welcome, so no separate tree distribution is needed.
        ratchetTreeExtension: decoded.length > 0,
      },
    );
    if (decoded.length > 0 && result.welcome === undefined)
      throw new CryptoError("internal", "addMembers: ts-mls produced no Welcome");
    return {
      group: wrapGroup(result.newState),
      commit: encodeWire(result.commit),
      welcome: result.welcome && encodeWire({ wireformat: "mls_welcome", welcome: result.welcome }),
      added: decoded.map(({ identity }) => memberOf(identity)),
      removed: targets.map((m) => memberOf(m)),
    };
  } catch (error) {
    throw toCryptoError(error, "commitChanges", decoded.length > 0 ? "malformed" : "internal", check);
  }
}

/** Adds devices by their KeyPackages in one commit (see commitChanges). */
export async function addMembers(
  group: MlsGroup,
  keyPackages: Uint8Array[],
  validate: CredentialValidator,
): Promise<{ group: MlsGroup; commit: Uint8Array; welcome: Uint8Array; added: MemberIdentity[] }> {
  if (keyPackages.length === 0) throw new CryptoError("malformed", "addMembers: no KeyPackages");
  const r = await commitChanges(group, { remove: [], add: keyPackages }, validate);
  return { group: r.group, commit: r.commit, welcome: r.welcome!, added: r.added };
}

/**
 * Removes every leaf whose identity equals one of `members` (a device may, after a reinstall, hold
 * more than one leaf). Same epoch rule as addMembers: keep the new group once the server accepted it.
 */
export async function removeMembers(
  group: MlsGroup,
  members: MemberIdentity[],
): Promise<{ group: MlsGroup; commit: Uint8Array; removed: MemberIdentity[] }> {
  if (members.length === 0)
    throw new CryptoError("not-member", "removeMembers: none of these devices is a member");
  const r = await commitChanges(group, { remove: members, add: [] }, async () => false);
  return { group: r.group, commit: r.commit, removed: r.removed };
}

/**
 * Joins a group from a Welcome addressed to one of our KeyPackages. Every member of the joined tree
 * is checked with `validate`; the caller should delete the used KeyPackage unless it is last-resort.
 */
export async function joinFromWelcome(
  welcome: Uint8Array,
  keyPackages: KeyPackageBundle[],
  keys: DeviceKeys,
  validate: CredentialValidator,
): Promise<{ group: MlsGroup; usedKeyPackageRef: string; sender: MemberIdentity }> {
  const message = decodeWire(welcome, "Welcome");
  if (message.wireformat !== "mls_welcome")
    throw new CryptoError("malformed", "joinFromWelcome: not a Welcome");
  if (message.welcome.cipherSuite !== CIPHER_SUITE) {
    throw new CryptoError("malformed", "joinFromWelcome: unsupported cipher suite");
  }
  const recipients = new Set(message.welcome.secrets.map((s) => toBase64Url(s.newMember)));
  const bundle = keyPackages.find((b) => recipients.has(b.ref));
  if (bundle === undefined)
    throw new CryptoError("no-key-package", "joinFromWelcome: the Welcome is for none of our KeyPackages");

  const keyPackage = decodeKeyPackage(bundle.publicKeyPackage);
  if (!bytesEqual(keyPackage.leafNode.signaturePublicKey, keys.signaturePublicKey)) {
    throw new CryptoError(
      "no-key-package",
      "joinFromWelcome: the KeyPackage was made with other device keys",
    );
  }
  const privatePackage = decodePrivateKeyPackage(bundle.privateKeyPackage, keys);

  const check = credentialCheck(validate);
  try {
    const state = await joinGroup(
      message.welcome,
      keyPackage,
      privatePackage,
      emptyPskIndex,
      await cipherSuite(),
      undefined,
      undefined,
      check.config,
    );
    // ts-mls already asked the validator about every leaf while validating the tree; ask again
    // explicitly (answers are memoised) so this guarantee does not hinge on ts-mls internals.
    for (const node of state.ratchetTree) {
      if (node?.nodeType !== "leaf") continue;
      const identity = parseCredential(node.leaf.credential);
      if (identity === undefined) {
        throw new CryptoError("invalid-credential", "joinFromWelcome: a member has a foreign credential");
      }
      if (!(await check.check(identity, node.leaf.signaturePublicKey))) {
        throw toCryptoError(undefined, "joinFromWelcome", "invalid-credential", check);
      }
    }
    const sender = await welcomeSigner(message.welcome, keyPackage, privatePackage.initPrivateKey, state);
    return { group: wrapGroup(state), usedKeyPackageRef: bundle.ref, sender };
  } catch (error) {
    throw toCryptoError(error, "joinFromWelcome", "decrypt-failed", check);
  }
}

/**
 * Who signed a Welcome's GroupInfo (the member who added us): ts-mls verifies the signature but does
 * not say whose it was, so open the GroupInfo again (no PSKs in Sori) and look the signer's leaf up.
 */
async function welcomeSigner(
  welcome: Welcome,
  keyPackage: KeyPackage,
  initPrivateKey: Uint8Array,
  state: ClientState,
): Promise<MemberIdentity> {
  const cs = await cipherSuite();
  const ref = await makeKeyPackageRef(keyPackage, cs.hash);
  const secrets = await decryptGroupSecrets(
    await cs.hpke.importPrivateKey(initPrivateKey),
    ref,
    welcome,
    cs.hpke,
  );
  const info =
    secrets && (await decryptGroupInfo(welcome, secrets.joinerSecret, new Uint8Array(cs.kdf.size), cs));
  const node = info ? state.ratchetTree[info.signer * 2] : undefined;
  const identity = node?.nodeType === "leaf" ? parseCredential(node.leaf.credential) : undefined;
  if (!identity) throw new CryptoError("malformed", "joinFromWelcome: the Welcome's signer is not a member");
  return memberOf(identity);
}
