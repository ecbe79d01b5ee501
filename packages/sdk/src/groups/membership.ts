import { addMembers, createGroup, groupEpoch, removeMembers } from "@sori/crypto";
import { toBase64, toBase64Url } from "@sori/protocol";
import type { DeviceContext } from "../device/device-context.ts";
import type { Directory, Refusal } from "../device/directory.ts";
import { SdkError } from "../errors.ts";
import { MAX_GROUP_NAME_CHARS } from "../limits.ts";
import type { Content } from "../messages/content.ts";
import type { WhenBlocked } from "../messages/message-sender.ts";
import { newMessageId } from "../messages/message-id.ts";
import { type ChangeState, changeStep, planRound, reconcilePlan, startChange } from "./commit-machine.ts";
import type { ChatList, ChatSummary } from "./chat-list.ts";
import type { PendingCommit, PendingCommits } from "./pending-commits.ts";

/** Waits after `rate-limited` while adding a new device of this user to every chat. */
const RATE_LIMIT_RETRIES = 5;
const MAX_RATE_LIMIT_WAIT_S = 60;

export type MembershipDeps = {
  pending: PendingCommits;
  directory: Directory;
  chatList: ChatList;
  /** "identity-changed" if any of these users' account key changed and is not acknowledged yet. */
  requireTrusted(userIds: string[]): Promise<void>;
  /** Users among these whose account key changed and is not acknowledged (their devices wait). */
  pendingChanges(userIds: string[]): Promise<string[]>;
  /**
   * Devices the server offered that were not taken: reported as a warning (unless `warned`) and in the
   * chat (when there is one).
   */
  refused(groupId: string | undefined, refused: Refusal[], options?: { warned?: boolean }): Promise<void>;
  sendContent(groupId: string, content: Content, options?: { whenBlocked?: WhenBlocked }): Promise<number>;
  /** Shares this user's display name and avatar in a chat (after creating or joining it). */
  sendOwnProfile(groupId: string): Promise<void>;
};

/**
 * Who is in each chat: creating chats, adding and removing users, leaving, and keeping every chat's
 * devices in line with its users' active devices. Member changes are MLS commits driven by the commit
 * machine (commit-machine.ts).
 */
export class Membership {
  readonly #ctx: DeviceContext;
  readonly #deps: MembershipDeps;
  /** Devices the server offered whose KeyPackages were refused (not its user's account's): never claimed again. */
  readonly #refused = new Set<string>();

  constructor(ctx: DeviceContext, deps: MembershipDeps) {
    this.#ctx = ctx;
    this.#deps = deps;
  }

  /** Creates a direct chat or a group with the given users (all their devices and this user's others). */
  async createChat(kind: "direct" | "group", name: string | null, usernames: string[]): Promise<ChatSummary> {
    const { directory } = this.#deps;
    const ctx = this.#ctx;
    const users = usernames.length > 0 ? await directory.lookupUsers(usernames) : [];
    await this.#deps.requireTrusted(users.map((u) => u.userId));
    // Checked here too: with no device to claim for anyone, the claim below would not run at all.
    const deviceless = users.find((u) => u.devices.length === 0);
    if (deviceless)
      throw new SdkError("unknown-user", `${deviceless.username} has no device that can be added right now`);
    const own = await directory.usersById([ctx.identity.userId]);
    const expected = new Map<string, string>();
    for (const u of [...own, ...users])
      for (const d of u.devices) if (d.deviceId !== ctx.identity.deviceId) expected.set(d.deviceId, u.userId);
    const groupIdBytes = crypto.getRandomValues(new Uint8Array(16));
    const groupId = toBase64Url(groupIdBytes);
    let refused: Refusal[] = [];
    await ctx.mutex.run(async () => {
      let group = await createGroup(ctx.account.credential, ctx.keys, groupIdBytes);
      let welcome: Uint8Array | undefined;
      let added: string[] = [];
      if (expected.size > 0) {
        const claimed = await directory.claimKeyPackages(expected);
        const keyPackages = claimed.keyPackages;
        refused = claimed.refused;
        for (const r of refused) this.#refused.add(r.deviceId);
        // Said before anything can fail: the person must hear of it even if the chat is not made.
        if (refused.length > 0) await this.#deps.refused(undefined, refused);
        for (const u of users) {
          if (!keyPackages.some((k) => k.userId === u.userId)) {
            throw new SdkError("unknown-user", `${u.username} has no device that can be added right now`);
          }
        }
        const r = await addMembers(
          group,
          keyPackages.map((k) => k.keyPackage),
          directory.validateForAdd,
        );
        group = r.group;
        welcome = r.welcome;
        added = keyPackages.map((k) => k.deviceId);
      }
      const epoch = Number(groupEpoch(group));
      await ctx
        .request({
          type: "group.create",
          groupId,
          epoch,
          members: added,
          ...(welcome ? { welcome: toBase64(welcome) } : {}),
        })
        .catch(async (error: unknown) => {
          // After a lost answer the resend finds the group already made: ours, if we are its member.
          if (!(error instanceof SdkError && error.code === "group-exists")) throw error;
          const info = await ctx.request({ type: "group.info", groupId });
          if (info.epoch !== epoch || !info.members.some((m) => m.deviceId === ctx.identity.deviceId))
            throw error;
        });
      await ctx.groups.save(groupId, group);
      await ctx.chats.putChat({
        id: groupId,
        kind,
        name,
        createdAt: Date.now(),
        lastMessageAt: Date.now(),
        lastMessage: null,
        unread: 0,
        active: true,
      });
    });
    await this.#deps.sendContent(groupId, {
      v: 1,
      type: "meta",
      id: newMessageId(),
      kind,
      ...(name ? { name } : {}),
      sentAt: Date.now(),
    });
    if (refused.length > 0) await this.#deps.refused(groupId, refused, { warned: true });
    await this.#deps.sendOwnProfile(groupId);
    const summary = await this.#deps.chatList.summaryOf(groupId);
    this.#ctx.events.emit("chat", summary);
    return summary;
  }

  /** Adds a user (all of their devices) to a group. */
  async addMember(chatId: string, username: string): Promise<void> {
    const rec = await this.#deps.chatList.requireChat(chatId);
    if (rec.kind !== "group") throw new SdkError("bad-request", "members can only be added to groups");
    const user = await this.#deps.directory.lookupUser(username);
    await this.#ctx.groups.load(chatId);
    const present = new Set((await this.#ctx.groups.members(chatId)).map((m) => m.deviceId));
    await this.#deps.requireTrusted([user.userId]);
    const missing = user.devices.filter((d) => !present.has(d.deviceId));
    if (missing.length === 0) return;
    await this.changeMembers(chatId, new Map(missing.map((d) => [d.deviceId, user.userId])), []);
  }

  /** Removes a user (all of their devices) from a group. They cannot read anything sent afterwards. */
  async removeMember(chatId: string, username: string): Promise<void> {
    const rec = await this.#deps.chatList.requireChat(chatId);
    if (rec.kind !== "group") throw new SdkError("bad-request", "members can only be removed from groups");
    if (username.toLowerCase() === this.#ctx.enrolment.username.toLowerCase())
      throw new SdkError("bad-request", "you cannot remove yourself; leaving is not supported yet");
    const user = await this.#deps.directory.lookupUser(username);
    await this.#ctx.groups.load(chatId);
    const devices = (await this.#ctx.groups.members(chatId))
      .filter((m) => m.userId === user.userId)
      .map((m) => m.deviceId);
    if (devices.length === 0)
      throw new SdkError("not-member", `${user.username} is not a member of this group`);
    await this.changeMembers(chatId, new Map(), devices);
  }

  /** Renames a group for everyone in it. */
  async renameGroup(chatId: string, name: string): Promise<void> {
    const rec = await this.#deps.chatList.requireChat(chatId);
    if (rec.kind !== "group") throw new SdkError("bad-request", "only groups have a name");
    const trimmed = checkGroupName(name);
    await this.#ctx.chats.updateChat(chatId, { name: trimmed });
    await this.sendMeta(chatId);
    await this.#deps.chatList.emitChat(chatId);
  }

  /** Leaves a group: the others' devices remove this user's devices; history stays on this device. */
  async leaveGroup(chatId: string): Promise<void> {
    const rec = await this.#deps.chatList.requireChat(chatId);
    if (rec.kind !== "group") throw new SdkError("bad-request", "you can only leave groups");
    // Leaving is allowed even while a member's key change waits: it tells them less, not more.
    await this.#deps.sendContent(
      chatId,
      { v: 1, type: "leave", id: newMessageId() },
      { whenBlocked: "send" },
    );
    await this.#ctx.mutex.run(() => this.deactivate(chatId));
  }

  /**
   * Commits adds and removes (removals first, adds in a round of their own), retrying after catching up
   * when another member committed first. Added devices get the chat's metadata in a message right after.
   */
  async changeMembers(groupId: string, add: Map<string, string>, remove: string[]): Promise<void> {
    const ctx = this.#ctx;
    let s: ChangeState = startChange([...add.keys()], remove);
    const owners = add;
    let lastError: unknown;
    for (;;) {
      // Settle, prepare and submit under the mutex (nothing may process the group's deliveries meanwhile);
      // catching up happens outside it, since processing the winning commit needs the mutex.
      s = await ctx.mutex.run(async () => {
        let state = s;
        let pending: PendingCommit | undefined;
        while (state.phase === "settle" || state.phase === "prepare" || state.phase === "submit") {
          if (state.phase === "settle") {
            // An earlier commit whose answer was lost goes first; a new one must not replace it.
            state = changeStep(state, { type: "settled", ok: await this.#deps.pending.settle(groupId) });
          } else if (state.phase === "prepare") {
            pending = await this.#prepare(groupId, state, owners);
            const commit = pending && { add: pending.add, remove: pending.remove, epoch: pending.epoch };
            state = changeStep(state, { type: "prepared", commit });
          } else {
            const { answer, error } = await this.#deps.pending.submit(pending!);
            lastError = error;
            state = changeStep(state, { type: "answer", answer });
          }
        }
        return state;
      });
      if (s.phase !== "catch-up") break;
      await ctx.groups.waitEpoch(groupId, s.waitEpoch ?? 0);
      s = changeStep(s, { type: "caught-up" });
    }
    if (s.phase === "failed") {
      if ((s.error?.code === "lost" || s.error?.code === "refused") && lastError) throw lastError;
      throw new SdkError(s.error?.code === "offline" ? "offline" : "conflict", s.error?.message ?? "failed");
    }
    await this.#deps.chatList.emitChat(groupId);
    if (s.addedAny) await this.sendMeta(groupId, "skip");
  }

  /** Builds and saves (as pending) the commit of the next round; undefined when there is nothing to do. */
  async #prepare(
    groupId: string,
    s: ChangeState,
    owners: Map<string, string>,
  ): Promise<PendingCommit | undefined> {
    const group = await this.#ctx.groups.load(groupId);
    const members = await this.#ctx.groups.members(groupId);
    const round = planRound(members, this.#ctx.identity.deviceId, s.add, s.remove);
    if (!round) return undefined;
    if (round.remove.length > 0) {
      const targets = new Set(round.remove);
      const r = await removeMembers(
        group,
        members.filter((m) => targets.has(m.deviceId)),
      );
      return this.#deps.pending.save(groupId, group, r.group, {
        commit: r.commit,
        welcome: undefined,
        add: [],
        remove: round.remove,
      });
    }
    const { keyPackages, refused } = await this.#deps.directory.claimKeyPackages(
      new Map(round.add.map((d) => [d, owners.get(d) ?? ""])),
    );
    for (const r of refused) this.#refused.add(r.deviceId);
    if (refused.length > 0) this.#ctx.later(() => this.#deps.refused(groupId, refused));
    if (keyPackages.length === 0) return undefined;
    const r = await addMembers(
      group,
      keyPackages.map((k) => k.keyPackage),
      this.#deps.directory.validateForAdd,
    );
    return this.#deps.pending.save(groupId, group, r.group, {
      commit: r.commit,
      welcome: r.welcome,
      add: keyPackages.map((k) => k.deviceId),
      remove: [],
    });
  }

  /**
   * Brings a group's devices in line with the directory: adds the active devices of users who are
   * already members (per MLS, not per the server) and removes members' devices that are no longer
   * active. The server's `group-outdated` lists only trigger this; they are never trusted as such, so
   * neither a lying member nor a malicious server can get a stranger's device added.
   */
  async reconcile(groupId: string): Promise<void> {
    const members = await this.#ctx.groups.members(groupId);
    if (members.length === 0) await this.#ctx.groups.load(groupId);
    const memberUsers = [...new Set(members.map((m) => m.userId))];
    const users = await this.#deps.directory.usersById(memberUsers);
    // A user whose account key changed keeps the devices in the group until the change is acknowledged.
    const waiting = new Set(await this.#deps.pendingChanges(memberUsers));
    const active = users.flatMap((u) =>
      waiting.has(u.userId)
        ? members.filter((m) => m.userId === u.userId)
        : u.devices.map((d) => ({ userId: u.userId, deviceId: d.deviceId })),
    );
    // A device whose KeyPackage was refused once is not asked for again (the server would only offer the same).
    const plan = reconcilePlan(
      members,
      active.filter((d) => !this.#refused.has(d.deviceId)),
      this.#ctx.identity.deviceId,
    );
    if (plan.remove.length > 0) await this.changeMembers(groupId, new Map(), plan.remove);
    const owners = new Map(active.map((d) => [d.deviceId, d.userId]));
    if (plan.add.length > 0)
      await this.changeMembers(groupId, new Map(plan.add.map((d) => [d, owners.get(d) ?? ""])), []);
  }

  /** Devices whose KeyPackages were refused: the server cannot make a chat take them. */
  get refusedDevices(): ReadonlySet<string> {
    return this.#refused;
  }

  /** A new device of this user logged in: add it to every chat. */
  async addOwnDevice(): Promise<void> {
    const chats = (await this.#ctx.chats.listChats())
      .filter((c) => c.active)
      .sort((a, b) => (b.lastMessageAt ?? 0) - (a.lastMessageAt ?? 0));
    for (const c of chats) {
      // Many chats claim many KeyPackages: past the server's per-account limit, wait as it says.
      for (let attempt = 0; ; attempt++) {
        try {
          await this.reconcile(c.id);
          break;
        } catch (error) {
          const wait =
            error instanceof SdkError && error.code === "rate-limited"
              ? error.details.retryAfterS
              : undefined;
          if (wait === undefined || attempt >= RATE_LIMIT_RETRIES) throw error;
          await new Promise((r) => setTimeout(r, Math.min(wait, MAX_RATE_LIMIT_WAIT_S) * 1000));
        }
      }
    }
  }

  /** Commits the removal of every device of a user who left. */
  async removeUser(chat: string, userId: string): Promise<void> {
    const devices = (await this.#ctx.groups.members(chat))
      .filter((m) => m.userId === userId)
      .map((m) => m.deviceId);
    if (devices.length > 0) await this.changeMembers(chat, new Map(), devices);
  }

  /** This device is no longer in the chat (removed, or its user left): keep history, drop keys. */
  async deactivate(chat: string): Promise<void> {
    await this.#ctx.groups.remove(chat);
    await this.#ctx.chats.updateChat(chat, { active: false });
    await this.#deps.chatList.emitChat(chat);
  }

  /** Sends the chat's kind and name (groups' names travel only inside the encryption). */
  async sendMeta(groupId: string, whenBlocked: WhenBlocked = "throw"): Promise<void> {
    const rec = await this.#ctx.chats.getChat(groupId);
    if (!rec) return;
    await this.#deps.sendContent(
      groupId,
      {
        v: 1,
        type: "meta",
        id: newMessageId(),
        kind: rec.kind,
        ...(rec.name ? { name: rec.name } : {}),
        sentAt: Date.now(),
      },
      { whenBlocked },
    );
  }
}

/** A group name, trimmed; "bad-request" unless 1 to MAX_GROUP_NAME_CHARS characters. */
export function checkGroupName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_GROUP_NAME_CHARS)
    throw new SdkError("bad-request", `a group name needs 1 to ${MAX_GROUP_NAME_CHARS} characters`);
  return trimmed;
}
