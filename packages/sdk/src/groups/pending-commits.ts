import type { GroupMember, MlsGroup } from "@sori/crypto";
import { encodeGroup, groupEpoch } from "@sori/crypto";
import { fromBase64, toBase64 } from "@sori/protocol";
import type { DeviceContext } from "../device/device-context.ts";
import { SdkError } from "../errors.ts";
import { getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import { answerOf, pendingCommitAction, type ServerAnswer, shouldResendPending } from "./commit-machine.ts";

/** A commit sent but not yet known to be accepted; resent as-is so a lost answer cannot fork the group. */
export type PendingCommit = {
  groupId: string;
  epoch: number;
  commit: string;
  welcome: string | null;
  add: string[];
  remove: string[];
  newState: string;
  /** Devices were added: they get the chat's metadata once the commit is accepted. */
  metaAfter: boolean;
};

export type PendingCommitHooks = {
  /** A commit of ours was accepted and its state adopted. */
  adopted(groupId: string, before: GroupMember[], after: GroupMember[]): Promise<void>;
  /** Sends the chat's name and kind (to devices a settled commit added). */
  sendMeta(groupId: string): Promise<void>;
};

/**
 * Commits of this device whose answer was not seen yet, saved before sending. They are settled
 * (resent unchanged) before anything else touches their group: after a reconnect, before the next
 * delivery of the group, before the next send or member change. Call everything but `load` and
 * `has` inside the device mutex.
 */
export class PendingCommits {
  readonly #ctx: Pick<DeviceContext, "storage" | "groups" | "request" | "mutex" | "later" | "identity">;
  readonly #hooks: PendingCommitHooks;
  readonly #groups = new Set<string>();

  constructor(
    ctx: Pick<DeviceContext, "storage" | "groups" | "request" | "mutex" | "later" | "identity">,
    hooks: PendingCommitHooks,
  ) {
    this.#ctx = ctx;
    this.#hooks = hooks;
  }

  /** Reads which groups have a pending commit (once, before connecting). */
  async load(): Promise<void> {
    for (const key of await this.#ctx.storage.list(StorageKeys.pendingCommits))
      this.#groups.add(key.slice(StorageKeys.pendingCommits.length));
  }

  has(groupId: string): boolean {
    return this.#groups.has(groupId);
  }

  get any(): boolean {
    return this.#groups.size > 0;
  }

  /** Saves a commit before it is sent: if the answer is lost, the same commit is resent, never a new one. */
  async save(
    groupId: string,
    before: MlsGroup,
    after: MlsGroup,
    commit: { commit: Uint8Array; welcome: Uint8Array | undefined; add: string[]; remove: string[] },
  ): Promise<PendingCommit> {
    const pending: PendingCommit = {
      groupId,
      epoch: Number(groupEpoch(before)),
      commit: toBase64(commit.commit),
      welcome: commit.welcome ? toBase64(commit.welcome) : null,
      add: commit.add,
      remove: commit.remove,
      newState: toBase64(encodeGroup(after)),
      metaAfter: commit.add.length > 0,
    };
    await putJson(this.#ctx.storage, StorageKeys.pendingCommit(groupId), pending);
    this.#groups.add(groupId);
    return pending;
  }

  /**
   * Sends a pending commit and acts on the answer: adopts its state when accepted, drops it when the
   * server refused it or another commit won, keeps it when the answer was lost. Returns the answer;
   * throws only for a storage failure.
   */
  async submit(p: PendingCommit): Promise<{ answer: ServerAnswer; error: unknown }> {
    let answer: ServerAnswer = { kind: "accepted" };
    let error: unknown;
    try {
      await this.#ctx.request({
        type: "group.commit",
        groupId: p.groupId,
        epoch: p.epoch,
        commit: p.commit,
        ...(p.welcome ? { welcome: p.welcome } : {}),
        add: p.add,
        remove: p.remove,
      });
    } catch (e) {
      if (!(e instanceof SdkError)) throw e;
      error = e;
      answer = answerOf(e.code, e.details);
    }
    const action = pendingCommitAction(answer);
    if (action === "adopt") {
      const before = await this.#ctx.groups.members(p.groupId);
      await this.#ctx.groups.saveEncoded(p.groupId, fromBase64(p.newState)!);
      await this.#delete(p.groupId);
      this.#ctx.groups.notifyEpoch();
      const after = await this.#ctx.groups.members(p.groupId);
      if (before.length > 0) await this.#hooks.adopted(p.groupId, before, after);
    } else if (action === "drop") {
      await this.#delete(p.groupId);
    }
    return { answer, error };
  }

  /**
   * Resends a group's pending commit, if it has one that still applies (call inside the mutex).
   * Returns false if the server could not be reached, in which case the commit stays pending.
   */
  async settle(groupId: string): Promise<boolean> {
    if (!this.#groups.has(groupId)) return true;
    const p = await getJson<PendingCommit>(this.#ctx.storage, StorageKeys.pendingCommit(groupId));
    if (!p || !shouldResendPending(p.epoch, await this.#ctx.groups.epoch(groupId))) {
      await this.#delete(groupId);
      return true;
    }
    const { answer } = await this.submit(p);
    if (answer.kind === "lost") return false;
    if (answer.kind === "accepted" && p.metaAfter) this.#ctx.later(() => this.#hooks.sendMeta(groupId));
    return true;
  }

  /** Settles every pending commit (after connecting), each under the mutex. */
  async flushAll(): Promise<void> {
    for (const groupId of [...this.#groups]) await this.#ctx.mutex.run(() => this.settle(groupId));
  }

  async #delete(groupId: string): Promise<void> {
    await this.#ctx.storage.delete(StorageKeys.pendingCommit(groupId));
    this.#groups.delete(groupId);
  }
}
