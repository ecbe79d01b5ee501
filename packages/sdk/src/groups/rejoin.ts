import { commitChanges, type MemberIdentity, rejoinRequest, verifyRejoinRequest } from "@sori/crypto";
import { toBase64 } from "@sori/protocol";
import type { DeviceContext } from "../device/device-context.ts";
import type { Directory } from "../device/directory.ts";
import { getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import type { PendingCommits } from "./pending-commits.ts";
import { appendSystemLine } from "../messages/system-line.ts";

/** A device that fell behind asks again at most this often (a request may reach nobody online). */
const ASK_AGAIN_MS = 60_000;
/** Members wait up to this long before re-adding, so that usually one of them does it. */
const RESPOND_JITTER_MS = 1500;
/** Lost races (another member committed first) before a responder gives up. */
const RESPOND_ATTEMPTS = 4;

type Mark = { since: number; askedAt: number; epoch: number };

const same = (a: MemberIdentity, b: MemberIdentity): boolean =>
  a.userId === b.userId && a.deviceId === b.deviceId;

/**
 * Getting back into a chat after missing a commit (the server dropped it, or this device could not
 * process it): nothing after it can be decrypted, so the device asks the others, with a request signed
 * by its device key, to re-add it; one of them removes its old leaf and adds a fresh KeyPackage of it
 * in one commit, and the Welcome brings it back. Both sides note it in the chat.
 */
export class Rejoin {
  readonly #ctx: DeviceContext;
  readonly #deps: { pending: PendingCommits; directory: Directory };

  constructor(ctx: DeviceContext, deps: { pending: PendingCommits; directory: Directory }) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  /** Whether this device waits to be re-added to the chat. */
  async isBehind(groupId: string): Promise<boolean> {
    return (await getJson<Mark>(this.#ctx.storage, StorageKeys.rejoin(groupId))) !== undefined;
  }

  /** This device met a message or commit from an epoch it never reached (call inside the mutex). */
  async fellBehind(groupId: string, epoch: number): Promise<void> {
    const key = StorageKeys.rejoin(groupId);
    const mark = await getJson<Mark>(this.#ctx.storage, key);
    const now = Date.now();
    if (mark && now - mark.askedAt < ASK_AGAIN_MS) return;
    const group = await this.#ctx.groups.find(groupId);
    if (!group) return;
    if (!mark)
      this.#ctx.warn(
        "rejoin-failed",
        "this device missed a change to a chat; it asked the other members to re-add it",
      );
    await putJson(this.#ctx.storage, key, { since: mark?.since ?? now, askedAt: now, epoch } satisfies Mark);
    await this.#ctx
      .request({ type: "group.rejoin", groupId, request: toBase64(rejoinRequest(group, this.#ctx.keys)) })
      .catch(() => {
        // Asked again with the next message from the new epoch, or after reconnecting.
      });
  }

  /** A Welcome brought this device back (call inside the mutex, after saving the new state). */
  async rejoined(groupId: string): Promise<void> {
    await this.#ctx.storage.delete(StorageKeys.rejoin(groupId));
    await appendSystemLine(this.#ctx, {
      chat: groupId,
      from: this.#ctx.enrolment.username,
      fromUserId: this.#ctx.enrolment.userId,
      system: { event: "rejoined" },
    });
  }

  /** Another member's device asks to be re-added (a "rejoin-request" delivery). */
  requested(groupId: string, from: MemberIdentity, request: Uint8Array): void {
    const delay = Math.floor(Math.random() * RESPOND_JITTER_MS);
    this.#ctx.later(async () => {
      await new Promise((r) => setTimeout(r, delay));
      await this.#readd(groupId, from, request);
    });
  }

  async #readd(groupId: string, from: MemberIdentity, request: Uint8Array): Promise<void> {
    const ctx = this.#ctx;
    for (let attempt = 0; attempt < RESPOND_ATTEMPTS; attempt++) {
      const outcome = await ctx.mutex.run(async (): Promise<"done" | { epoch: number }> => {
        if (this.#deps.pending.has(groupId) && !(await this.#deps.pending.settle(groupId))) return "done";
        const group = await ctx.groups.find(groupId);
        // Only a member whose current leaf signed the request, and only the one the server named.
        const member = group && verifyRejoinRequest(group, request);
        if (!group || !member || !same(member, from)) return "done";
        const { keyPackages, refused } = await this.#deps.directory.claimKeyPackages(
          new Map([[member.deviceId, member.userId]]),
        );
        if (refused.length > 0 || keyPackages.length === 0) return "done";
        const r = await commitChanges(
          group,
          { remove: [member], add: keyPackages.map((k) => k.keyPackage) },
          this.#deps.directory.validateForAdd,
        );
        const pending = await this.#deps.pending.save(groupId, group, r.group, {
          commit: r.commit,
          welcome: r.welcome,
          add: [member.deviceId],
          remove: [member.deviceId],
        });
        const { answer } = await this.#deps.pending.submit(pending);
        return answer.kind === "stale-epoch" ? { epoch: answer.epoch ?? pending.epoch + 1 } : "done";
      });
      if (outcome === "done") return;
      await ctx.groups.waitEpoch(groupId, outcome.epoch);
    }
  }
}
