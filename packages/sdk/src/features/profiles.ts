import { fromBase64, toBase64 } from "@sori/protocol";
import type { DeviceContext } from "../device/device-context.ts";
import { SdkError } from "../errors.ts";
import { MAX_AVATAR_BYTES, MAX_DISPLAY_NAME_CHARS } from "../limits.ts";
import type { Content, PhoneLineWire } from "../messages/content.ts";
import { newMessageId } from "../messages/message-id.ts";

/** People's display names and avatars: shared encrypted in every chat, never with the server. */
export class Profiles {
  readonly #ctx: DeviceContext;
  readonly #send: (chat: string, content: Content) => Promise<number>;

  constructor(ctx: DeviceContext, send: (chat: string, content: Content) => Promise<number>) {
    this.#ctx = ctx;
    this.#send = send;
  }

  /** Sets this user's display name and avatar and shares them, encrypted, with every chat. */
  async set(profile: { displayName?: string | null; avatar?: Uint8Array | null }): Promise<void> {
    const { chats, events, enrolment } = this.#ctx;
    const current = (await chats.getProfile(enrolment.userId)) ?? { displayName: null, avatar: null };
    const displayName =
      profile.displayName === undefined ? current.displayName : profile.displayName?.trim() || null;
    if (displayName && displayName.length > MAX_DISPLAY_NAME_CHARS)
      throw new SdkError("bad-request", `a display name has at most ${MAX_DISPLAY_NAME_CHARS} characters`);
    let avatar = current.avatar;
    if (profile.avatar !== undefined) {
      if (profile.avatar && profile.avatar.length > MAX_AVATAR_BYTES) {
        throw new SdkError(
          "too-large",
          `an avatar can be at most ${Math.floor(MAX_AVATAR_BYTES / 1000)} KB`,
          {
            limit: MAX_AVATAR_BYTES,
          },
        );
      }
      avatar = profile.avatar ? toBase64(profile.avatar) : null;
    }
    await chats.putProfile(enrolment.userId, { ...current, displayName, avatar });
    events.emit("profile", { userId: enrolment.userId });
    await this.#shareEverywhere();
  }

  /** This user's phone lines, as listed in the profile their chat partners get. */
  async ownLines(): Promise<PhoneLineWire[]> {
    return (await this.#ctx.chats.getProfile(this.#ctx.enrolment.userId))?.lines ?? [];
  }

  /** The phone lines a user listed in the profile they shared with this device. */
  async linesOf(userId: string): Promise<PhoneLineWire[]> {
    return (await this.#ctx.chats.getProfile(userId))?.lines ?? [];
  }

  /** Replaces this user's phone lines and shares the profile, encrypted, with every chat. */
  async setLines(lines: PhoneLineWire[]): Promise<void> {
    const { chats, events, enrolment } = this.#ctx;
    const current = (await chats.getProfile(enrolment.userId)) ?? { displayName: null, avatar: null };
    await chats.putProfile(enrolment.userId, { ...current, lines });
    events.emit("profile", { userId: enrolment.userId });
    await this.#shareEverywhere();
  }

  /** Shares in every chat; one chat that cannot take it now (offline, out of sync) does not stop the rest. */
  async #shareEverywhere(): Promise<void> {
    let failed = 0;
    for (const c of await this.#ctx.chats.listChats()) {
      if (!c.active) continue;
      await this.shareIn(c.id).catch(() => failed++);
    }
    if (failed > 0)
      this.#ctx.warn(
        "profile-share-failed",
        `the profile could not be shared in ${failed} chat${failed === 1 ? "" : "s"} now; it goes with the next change`,
      );
  }

  /** A user's display name and avatar as last shared with this device. */
  async get(userId: string): Promise<{ displayName: string | null; avatar: Uint8Array | null }> {
    const p = await this.#ctx.chats.getProfile(userId);
    return { displayName: p?.displayName ?? null, avatar: p?.avatar ? (fromBase64(p.avatar) ?? null) : null };
  }

  /** Shares this user's profile in one chat (after creating or joining it); nothing if there is none. */
  async shareIn(groupId: string): Promise<void> {
    const p = await this.#ctx.chats.getProfile(this.#ctx.enrolment.userId);
    // An empty list still goes out: it is how partners learn that the last line was removed.
    if (!p || (!p.displayName && !p.avatar && p.lines === undefined)) return;
    await this.#send(groupId, {
      v: 1,
      type: "profile",
      id: newMessageId(),
      displayName: p.displayName,
      avatar: p.avatar,
      ...(p.lines !== undefined ? { lines: p.lines } : {}),
    });
  }

  /** Another member (or this user's other device) shared a profile. */
  async onProfile(senderId: string, content: Extract<Content, { type: "profile" }>): Promise<void> {
    const known = await this.#ctx.chats.getProfile(senderId);
    const lines = content.lines ?? known?.lines;
    await this.#ctx.chats.putProfile(senderId, {
      displayName: content.displayName,
      avatar: content.avatar,
      ...(lines !== undefined ? { lines } : {}),
    });
    this.#ctx.events.emit("profile", { userId: senderId });
  }
}
