import { fromBase64Url } from "@sori/protocol";
import type { CallManager } from "./calls/call-manager.ts";
import type { Contacts } from "./features/contacts.ts";
import type { Push } from "./features/push.ts";
import type { PhoneLines } from "./features/phone-lines.ts";
import type { ClientEvents, ConnectionState } from "./client-events.ts";
import { type DeviceEnrolment, loadEnrolment, saveEnrolment } from "./device/device-enrolment.ts";
import type { DeviceList } from "./device/devices.ts";
import type { FoundUser } from "./device/directory.ts";
import type { DeviceApprovalRequest } from "./device/device-approvals.ts";
import { enrol, type EnrolMode, parseLinkQr } from "./device/enrolment.ts";
import { SdkError } from "./errors.ts";
import type { FileInput, TransferProgress } from "./features/attachments.ts";
import type { SendFileOptions } from "./features/files.ts";
import type { SafetyNumberInfo } from "./features/safety-numbers.ts";
import { loadSettings, saveSettings } from "./features/settings.ts";
import type { StickerPack } from "./features/sticker-packs.ts";
import type { ChatSummary } from "./groups/chat-list.ts";
import { checkGroupName } from "./groups/membership.ts";
import { type ChatMessage, publicView } from "./messages/chat-store.ts";
import { isExpired } from "./messages/expiry.ts";
import { isMessageId } from "./messages/message-id.ts";
import { checkTextLength } from "./messages/message-actions.ts";
import type { ClientSettings } from "./messages/message-features.ts";
import type { ClientStorage } from "./storage/storage.ts";
import { changePassword } from "./transport/http-api.ts";

import { assembleClient, type ClientModules } from "./client-modules.ts";

export type { ChatSummary } from "./groups/chat-list.ts";
export type { ClientEvents, ConnectionState } from "./client-events.ts";
export { MAX_AVATAR_BYTES } from "./limits.ts";

/** How long connect() waits for the link and for the queue by default. */
const CONNECT_TIMEOUT_MS = 15_000;
/** close() gives a call's hang-up signal this long to go out. */
const HANGUP_FLUSH_MS = 2000;
/** How long waitForApproval waits by default: a link code's lifetime. */
const APPROVAL_WAIT_MS = 10 * 60_000;

/**
 * One Sori device: its keys, its chats, and the link to the server. A facade over the parts in
 * device/, groups/, messages/, features/, transport/ and calls/, which share one DeviceContext. All MLS
 * state changes (incoming deliveries and local operations) run one at a time through its mutex, in the
 * server's order.
 */
export class SoriClient {
  readonly #m: ClientModules;

  private constructor(storage: ClientStorage, enrolment: DeviceEnrolment) {
    this.#m = assembleClient(storage, enrolment, (target) => this.#chatFor(target));
  }

  // --- accounts ---------------------------------------------------------------------------------

  /** Creates an account and this device on the server; stores the profile in `storage`. */
  static register(options: {
    serverUrl: string;
    username: string;
    password: string;
    storage: ClientStorage;
    deviceName?: string;
  }): Promise<SoriClient> {
    return SoriClient.#enrol({ mode: "register", ...options }, options);
  }

  /** Adds this device to an existing account. */
  static login(options: {
    serverUrl: string;
    username: string;
    password: string;
    storage: ClientStorage;
    deviceName?: string;
  }): Promise<SoriClient> {
    return SoriClient.#enrol({ mode: "login", ...options }, options);
  }

  /**
   * A gateway makes a bridged identity of its namespace (`xmpp:juliet@example.org`, the server's
   * `--bridges`): an account without a password whose one device is stored in `storage`, run by the
   * gateway. Throws "username-taken" if it exists, "forbidden" if this client is not its gateway.
   */
  async createBridgedIdentity(options: {
    username: string;
    storage: ClientStorage;
    deviceName?: string;
  }): Promise<SoriClient> {
    const { serverUrl, token } = this.#m.ctx.enrolment;
    return SoriClient.#enrol(
      { mode: "bridged", username: options.username, gatewayToken: token },
      { serverUrl, storage: options.storage, deviceName: options.deviceName ?? "bridge" },
    );
  }

  /**
   * Adds this device to the account of a signed-in device that showed a link code (see
   * createDeviceLink), instead of a password. `qr` is the scanned payload (it names the server).
   */
  static async linkDevice(
    options: { storage: ClientStorage; deviceName?: string } & (
      { serverUrl: string; code: string } | { qr: string }
    ),
  ): Promise<SoriClient> {
    const parsed =
      "qr" in options ? parseLinkQr(options.qr) : { serverUrl: options.serverUrl, code: options.code };
    if (!parsed) throw new SdkError("bad-request", "this is not a Sori device-link code");
    return SoriClient.#enrol(
      { mode: "link", code: parsed.code },
      {
        serverUrl: parsed.serverUrl,
        storage: options.storage,
        ...(options.deviceName ? { deviceName: options.deviceName } : {}),
      },
    );
  }

  static async #enrol(
    mode: EnrolMode,
    o: { serverUrl: string; storage: ClientStorage; deviceName?: string },
  ): Promise<SoriClient> {
    const enrolment = await enrol({
      ...mode,
      serverUrl: o.serverUrl,
      storage: o.storage,
      ...(o.deviceName ? { deviceName: o.deviceName } : {}),
    });
    const client = await SoriClient.#create(o.storage, enrolment);
    // The device is usable by others once its KeyPackages (made with the identity the server just
    // assigned) are uploaded; connecting does that.
    try {
      await client.connect();
    } finally {
      await client.close();
    }
    return client;
  }

  /** Opens the device stored in `storage`; throws "not-logged-in" if there is none. */
  static async openStored(storage: ClientStorage): Promise<SoriClient> {
    return SoriClient.open(storage);
  }

  /** Opens the device stored in `storage`; throws "not-logged-in" if there is none. */
  static async open(storage: ClientStorage): Promise<SoriClient> {
    const enrolment = await loadEnrolment(storage);
    if (!enrolment)
      throw new SdkError("not-logged-in", "no account on this profile yet: register or log in first");
    return SoriClient.#create(storage, enrolment);
  }

  /**
   * The stored device's server moved (a new address or port, same server and data): later opens
   * connect to `serverUrl`. Nothing else of the device changes.
   */
  static async moveServer(storage: ClientStorage, serverUrl: string): Promise<void> {
    const enrolment = await loadEnrolment(storage);
    if (!enrolment)
      throw new SdkError("not-logged-in", "no account on this profile yet: register or log in first");
    try {
      new URL(serverUrl);
    } catch {
      throw new SdkError("bad-request", `not a server URL: ${serverUrl}`);
    }
    if (enrolment.serverUrl !== serverUrl) await saveEnrolment(storage, { ...enrolment, serverUrl });
  }

  /** A client whose account state is read already, so `approval` is right before connecting. */
  static async #create(storage: ClientStorage, enrolment: DeviceEnrolment): Promise<SoriClient> {
    const client = new SoriClient(storage, enrolment);
    await client.#m.account.load();
    return client;
  }

  /**
   * A single-use code (valid 10 minutes) that lets a new device join this account without the
   * password: show `code` to type, or `qr` as a QR code for the new device to scan.
   */
  createDeviceLink(): Promise<{ code: string; expiresAt: number; qr: string }> {
    return this.#m.approvals.createLink();
  }

  /**
   * "approved" once the account signed this device in; "pending" while it waits for another device of
   * the account to approve it (see approvalCode and waitForApproval).
   */
  get approval(): "approved" | "pending" {
    return this.#m.account.approved ? "approved" : "pending";
  }

  /**
   * How this device joined its account: "init-required" (it made a new account), "pending" (another
   * device approved it, or must still), "reset-required" (the account had no device left: this one gave
   * it a new identity key, and contacts see the safety number change).
   */
  signedInAs(): Promise<"init-required" | "pending" | "reset-required" | undefined> {
    return this.#m.approvals.signedInAs();
  }

  /** The code a waiting device shows: the approving device shows the same one beside the request. */
  approvalCode(): Promise<string | undefined> {
    return this.#m.approvals.code();
  }

  /**
   * Waits (connected) until another device of the account approves this one; "approval-rejected" if it
   * was refused, "timeout" after `timeoutMs` (default 10 minutes).
   */
  async waitForApproval(options: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.#m.account.approved)
      await this.#m.approvals.waitApproved(options.timeoutMs ?? APPROVAL_WAIT_MS);
    // Resolves once the device is active too: its KeyPackages are out, so others can add it.
    await this.#m.keyPackages.refill();
    await this.#m.pending.flushAll();
  }

  /**
   * For a waiting device whose person has no other device left: gives the account a new identity key.
   * Every other device of the account is signed out, and every contact sees the safety number change.
   */
  async resetIdentity(): Promise<void> {
    await this.#m.approvals.resetIdentity();
  }

  /** Devices of this account waiting for approval (also announced by the "device-approval" event). */
  pendingDevices(): Promise<DeviceApprovalRequest[]> {
    return this.#m.approvals.review();
  }

  /** Approves a waiting device of this account (compare its code first): it becomes part of the account. */
  approveDevice(deviceId: string): Promise<void> {
    return this.#m.approvals.approve(deviceId);
  }

  /** Refuses a waiting device: it is signed out. */
  rejectDevice(deviceId: string): Promise<void> {
    return this.#m.approvals.reject(deviceId);
  }

  /** Changes the account's password; every other device is signed out (re-link them with a code). */
  async changePassword(current: string, next: string): Promise<void> {
    await changePassword(this.serverUrl, this.#m.ctx.enrolment.token, current, next);
  }

  get userId(): string {
    return this.#m.ctx.enrolment.userId;
  }
  get username(): string {
    return this.#m.ctx.enrolment.username;
  }
  get deviceId(): string {
    return this.#m.ctx.enrolment.deviceId;
  }
  get serverUrl(): string {
    return this.#m.ctx.enrolment.serverUrl;
  }

  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    return this.#m.ctx.events.on(event, listener);
  }

  // --- connection -------------------------------------------------------------------------------

  /**
   * Connects and resolves once everything queued for this device while it was offline has been
   * processed. Afterwards the client stays connected, reconnecting with backoff, until close().
   */
  async connect(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
    await this.#m.expiry.start();
    if (!this.#m.connection.started) {
      await this.#m.pending.load();
      await this.#m.sender.loadInterrupted();
      this.#m.connection.start();
    }
    await this.#m.connection.waitConnected(timeoutMs);
    await this.waitSynced(timeoutMs);
    // Until the account signs this device in, it can take part in nothing (no KeyPackages, no chats).
    if (!(await this.#m.approvals.settle())) return;
    await this.#m.keyPackages.refill();
    await this.#m.pending.flushAll();
    this.#m.sender.resendInterrupted();
    this.#m.ctx.later(async () => {
      await this.#m.approvals.review();
    });
  }

  /** Resolves when the queue pushed at (re)connect time has been processed. */
  waitSynced(timeoutMs: number): Promise<void> {
    return this.#m.inbox.waitSynced(timeoutMs);
  }

  /** "connecting" until the first connection, "disconnected" while reconnecting after a loss. */
  get connectionState(): ConnectionState {
    return this.#m.connection.state;
  }

  /** Simulates a network failure (for tests and diagnostics): the client reconnects by itself. */
  dropConnection(): void {
    this.#m.connection.drop();
  }

  /** Disconnects after in-flight processing has finished. */
  async close(): Promise<void> {
    // A call must not outlive its client: hang up and give the signal a moment to go out.
    if (this.#m.calls.active) {
      this.#m.calls.hangupAll();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#m.calls.flush(),
        new Promise((r) => (timer = setTimeout(r, HANGUP_FLUSH_MS))),
      ]);
      clearTimeout(timer);
    }
    this.#m.expiry.stop();
    await this.#m.inbox.stop();
    await this.#m.ctx.mutex.run(async () => undefined);
    this.#m.connection.close();
  }

  /** How many one-time KeyPackages of this device the server still holds. */
  keyPackageCount(): Promise<number> {
    return this.#m.keyPackages.remaining();
  }

  // --- chats ------------------------------------------------------------------------------------

  /** Every chat this device knows, most recently active first. */
  chats(): Promise<ChatSummary[]> {
    return this.#m.chatList.chats();
  }

  /** Finds a chat by id, or the newest active direct chat with a username. */
  findChat(idOrUsername: string): Promise<ChatSummary | undefined> {
    return this.#m.chatList.findChat(idOrUsername);
  }

  /** The direct chat with `username`, created if there is none yet. */
  async startDirectChat(username: string): Promise<ChatSummary> {
    if (username.toLowerCase() === this.username.toLowerCase())
      throw new SdkError("bad-request", "you cannot start a direct chat with yourself");
    const existing = await this.findChat(username);
    if (existing) return existing;
    return this.#m.membership.createChat("direct", null, [username]);
  }

  /** Creates a group with a name and members (usernames). */
  createGroup(name: string, usernames: string[]): Promise<ChatSummary> {
    const trimmed = checkGroupName(name);
    return this.#m.membership.createChat(
      "group",
      trimmed,
      usernames.filter((u) => u.toLowerCase() !== this.username.toLowerCase()),
    );
  }

  /** Adds a user (all of their devices) to a group. */
  addMember(chatId: string, username: string): Promise<void> {
    return this.#m.membership.addMember(chatId, username);
  }

  /** Removes a user (all of their devices) from a group. They cannot read anything sent afterwards. */
  removeMember(chatId: string, username: string): Promise<void> {
    return this.#m.membership.removeMember(chatId, username);
  }

  /** Renames a group for everyone in it. */
  renameGroup(chatId: string, name: string): Promise<void> {
    return this.#m.membership.renameGroup(chatId, name);
  }

  /** Leaves a group: the others' devices remove this user's devices; history stays on this device. */
  leaveGroup(chatId: string): Promise<void> {
    return this.#m.membership.leaveGroup(chatId);
  }

  /** A chat by id or username; for a username without a chat yet, the direct chat is created. */
  async #chatFor(target: string): Promise<ChatSummary> {
    const found = await this.findChat(target);
    if (found) return found;
    try {
      return await this.startDirectChat(target);
    } catch (error) {
      // A chat id this device has not joined (yet) reads as an unknown user; say what it really is.
      if (error instanceof SdkError && error.code === "unknown-user" && isChatId(target)) {
        throw new SdkError(
          "unknown-chat",
          `no chat ${target} on this device (not a member, or not joined yet)`,
        );
      }
      throw error;
    }
  }

  // --- messages ---------------------------------------------------------------------------------

  /**
   * Sends a text to a chat id or, for a username, to the direct chat with that user (created if needed).
   * `replyTo` quotes a message of the chat. `id` (from newMessageId) makes the send idempotent, for a
   * bridge that must not send one thing twice across a crash: if this device already has a message
   * of that id in the chat, it is returned as it is and nothing is sent again (one left "sending" by
   * a crash is resent by the outbox under that id, which the server recognises).
   */
  async sendText(
    chatOrUsername: string,
    text: string,
    options: { replyTo?: string; id?: string } = {},
  ): Promise<ChatMessage> {
    if (text.trim().length === 0) throw new SdkError("bad-request", "cannot send an empty message");
    checkTextLength(text);
    if (options.id !== undefined && !isMessageId(options.id))
      throw new SdkError("bad-request", "a message id is 16 to 43 base64url characters (see newMessageId)");
    const chat = await this.#chatFor(chatOrUsername);
    if (options.id !== undefined) {
      const existing = await this.#m.ctx.chats.getMessage(chat.id, options.id);
      if (existing && !existing.outgoing)
        throw new SdkError("conflict", "a message of someone else in this chat has that id");
      if (existing) return publicView(existing);
    }
    return this.#m.sender.sendUserMessage(
      chat.id,
      { kind: "text", text, ...(await this.#m.actions.replyOf(chat.id, options)) },
      options.id,
    );
  }

  /** Sends a sticker, e.g. `{ pack: "sori", id: "hello" }` from the built-in set. */
  sendSticker(
    chatId: string,
    sticker: { pack: string; id: string },
    options: { replyTo?: string } = {},
  ): Promise<ChatMessage> {
    return this.#m.stickers.send(chatId, sticker, options);
  }

  /** Sends again an outgoing message whose sending failed, under the same id. */
  async retry(chatId: string, messageId: string): Promise<ChatMessage> {
    const m = await this.#m.ctx.chats.getMessage(chatId, messageId);
    if (!m || !m.outgoing) throw new SdkError("not-found", "no such outgoing message on this device");
    if (m.status !== "failed") return m;
    if (m.kind === "file" && !m.fileRef) await this.#m.files.uploadAgain(chatId, m);
    return this.#m.sender.deliverOutgoing(m);
  }

  /** One message of a chat's local history, by its id (undefined if this device has none such). */
  async message(chatId: string, messageId: string): Promise<ChatMessage | undefined> {
    const m = await this.#m.ctx.chats.getMessage(chatId, messageId);
    return m && !isExpired(m) ? publicView(m) : undefined;
  }

  /** Local history of a chat, oldest first: the `limit` newest messages before `before` (an order). */
  history(chatId: string, options: { limit?: number; before?: number } = {}): Promise<ChatMessage[]> {
    return this.#m.ctx.chats.history(chatId, options).then((list) => list.filter((m) => !isExpired(m)));
  }

  /** Messages from others that arrived since the last call, oldest first; each is returned once. */
  takeReceived(): Promise<ChatMessage[]> {
    return this.#m.ctx.chats.takeFeed().then((list) => list.filter((m) => !isExpired(m)));
  }

  /**
   * Like takeReceived, but the messages stay until confirmReceived: for a bridge or bot that must pass
   * each on before it lets go of it (a crash in between hands them over again).
   */
  peekReceived(): Promise<ChatMessage[]> {
    return this.#m.ctx.chats.peekFeed().then((list) => list.filter((m) => !isExpired(m)));
  }

  /** Lets go of messages peekReceived returned, once they were passed on. */
  confirmReceived(messages: readonly ChatMessage[]): Promise<void> {
    return this.#m.ctx.chats.dropFeed(messages.map((m) => m.order));
  }

  /**
   * Marks every message of a chat as read (unread count 0), or with `upTo` those sent up to that
   * message (a bridge whose other side read only so far): starts the disappearing timers of the
   * messages read, and tells the senders (unless read receipts are off in settings).
   */
  markRead(chatId: string, options: { upTo?: string } = {}): Promise<void> {
    return this.#m.receipts.markRead(chatId, options);
  }

  /**
   * Tells the senders that these messages, received in `chatId`, were delivered: for a device whose
   * `deliveryReceipts` setting is "manual" (a bridge's identity, once the other network's client has
   * them). Ids of messages this device did not receive there are left out.
   */
  confirmDelivered(chatId: string, messageIds: string[]): Promise<void> {
    return this.#m.receipts.confirmDelivered(chatId, messageIds);
  }

  /**
   * For gateways (a bridged identity's device): these messages it received in `chatId` could not be
   * passed on to the other network. Their senders see them "failed", with `reason` (the other
   * network's words, up to 300 characters) beside them. Ids of messages not sent to this identity
   * are ignored by the senders' devices.
   */
  reportUndelivered(chatId: string, messageIds: string[], reason: string): Promise<void> {
    return this.#m.receipts.reportUndelivered(chatId, messageIds, reason);
  }

  /** Searches this device's local history (the server cannot: it holds only ciphertext). Newest first. */
  search(query: string, options: { chat?: string; limit?: number } = {}): Promise<ChatMessage[]> {
    return this.#m.ctx.chats.search(query, options).then((list) => list.filter((m) => !isExpired(m)));
  }

  /** Toggles this user's reaction with `emoji` (any emoji) on a message; returns whether it is now on. */
  react(chatId: string, messageId: string, emoji: string): Promise<boolean> {
    return this.#m.actions.react(chatId, messageId, emoji);
  }

  /** Changes the text of one of this user's messages, for everyone; it shows as edited. */
  editMessage(chatId: string, messageId: string, text: string): Promise<ChatMessage> {
    return this.#m.actions.edit(chatId, messageId, text);
  }

  /** Deletes one of this user's messages on every device of every member ("message deleted"). */
  deleteForEveryone(chatId: string, messageId: string): Promise<ChatMessage> {
    return this.#m.actions.deleteForEveryone(chatId, messageId);
  }

  /** Removes a message from this device only. */
  deleteLocally(chatId: string, messageId: string): Promise<void> {
    return this.#m.actions.deleteLocally(chatId, messageId);
  }

  /** Forwards a message (text, sticker or file) to another chat, marked as forwarded. */
  forward(fromChatId: string, messageId: string, toChatOrUsername: string): Promise<ChatMessage> {
    return this.#m.actions.forward(fromChatId, messageId, toChatOrUsername);
  }

  /**
   * Tells the chat this user is typing (`true`) or stopped (`false`). Does nothing when typing
   * indicators are off in settings; repeated `true` calls are sent at most every 3 seconds.
   */
  setTyping(chatId: string, typing: boolean): Promise<void> {
    return this.#m.actions.setTyping(chatId, typing);
  }

  /**
   * Sets the chat's disappearing-message timer in seconds (0 = off, at most a week; apps offer
   * TIMER_CHOICES) for every member; the change is announced in the chat.
   */
  setTimer(chatId: string, seconds: number): Promise<void> {
    return this.#m.timers.set(chatId, seconds);
  }

  // --- files and stickers -----------------------------------------------------------------------

  /**
   * Sends a file (image, voice message, anything up to the server's limit): encrypted here with a
   * fresh AES-256-GCM key, uploaded in resumable chunks (`transfer` events and `onProgress`), then
   * announced in an MLS message carrying the key and hash. The message shows as "sending" meanwhile.
   * `id` makes the send idempotent as for sendText: a file message of that id already on this device
   * is returned, or finished and sent if a crash or failure left it unsent.
   */
  sendFile(chatOrUsername: string, file: FileInput, options: SendFileOptions = {}): Promise<ChatMessage> {
    return this.#m.files.send(chatOrUsername, file, options);
  }

  /**
   * The decrypted bytes of a file message: from this device's storage, or downloaded (resumable,
   * `transfer` events), checked against its hash, decrypted and kept for next time (unless `keep` is
   * false: a bridge that passes the bytes on need not hold a second copy).
   */
  downloadFile(
    chatId: string,
    messageId: string,
    options: { onProgress?: (p: TransferProgress) => void; keep?: boolean } = {},
  ): Promise<Uint8Array> {
    return this.#m.files.download(chatId, messageId, options);
  }

  /** Sticker packs on this device (made here or added from chats); the built-in one is not listed. */
  stickerPacks(): Promise<StickerPack[]> {
    return this.#m.stickers.list();
  }

  /** The image of a sticker of an installed pack (undefined for the built-in pack and unknown ones). */
  stickerImage(packId: string, stickerId: string): Promise<Uint8Array | undefined> {
    return this.#m.stickers.image(packId, stickerId);
  }

  /** Makes a sticker pack on this device from images (≤ 512 KB each, 1–100). Share it with shareStickerPack. */
  createStickerPack(name: string, images: { bytes: Uint8Array; mime: string }[]): Promise<StickerPack> {
    return this.#m.stickers.create(name, images);
  }

  /** Shares an installed pack in a chat: its images as encrypted blobs, its manifest in a message. */
  shareStickerPack(chatId: string, packId: string): Promise<ChatMessage> {
    return this.#m.stickers.share(chatId, packId);
  }

  /** Adds a pack someone shared in a chat (the message of kind "sticker-pack"): downloads its images. */
  addStickerPack(chatId: string, messageId: string): Promise<StickerPack> {
    return this.#m.stickers.add(chatId, messageId);
  }

  /** Removes a sticker pack from this device. */
  removeStickerPack(packId: string): Promise<void> {
    return this.#m.stickers.remove(packId);
  }

  // --- safety numbers, settings, profiles ---------------------------------------------------------

  /**
   * The safety number with a contact: 60 digits (and a QR payload) over both accounts' identity keys.
   * Compare it in person or by scanning. It stays the same as either side adds or removes devices;
   * `changed` means their account key changed: compare the new number, then acceptSafetyNumberChange.
   */
  safetyNumber(username: string): Promise<SafetyNumberInfo> {
    return this.#m.safety.of(username);
  }

  /** Marks the safety number with a contact as verified (or not); verifying after a change accepts it. */
  setVerified(username: string, verified: boolean): Promise<void> {
    return this.#m.safety.setVerified(username, verified);
  }

  /**
   * Accepts a contact's new account key: until then nothing is sent to chats with them, and devices
   * under the new key are not added.
   */
  async acceptSafetyNumberChange(username: string): Promise<void> {
    await this.#m.safety.acceptChange(username);
    const user = await this.#m.directory.findUser(username);
    if (!user) return;
    // Their new devices can now join the chats this device shares with them.
    for (const c of await this.chats())
      if (c.active && c.memberIds.includes(user.userId))
        this.#m.ctx.later(() => this.#m.membership.reconcile(c.id));
  }

  /** Compares a scanned QR payload with the safety number; marks the contact verified if they match. */
  verifySafetyQr(username: string, payload: string): Promise<boolean> {
    return this.#m.safety.verifyQr(username, payload);
  }

  /** This device's privacy settings. */
  settings(): Promise<ClientSettings> {
    return loadSettings(this.#m.ctx.storage);
  }

  /** Changes settings: with read receipts or typing indicators off, they are not sent. */
  setSettings(patch: Partial<ClientSettings>): Promise<ClientSettings> {
    return saveSettings(this.#m.ctx.storage, patch);
  }

  /** Sets this user's display name and avatar and shares them, encrypted, with every chat. */
  setProfile(profile: { displayName?: string | null; avatar?: Uint8Array | null }): Promise<void> {
    return this.#m.profiles.set(profile);
  }

  /** A user's display name and avatar as last shared with this device. */
  profile(userId: string): Promise<{ displayName: string | null; avatar: Uint8Array | null }> {
    return this.#m.profiles.get(userId);
  }

  /**
   * Looks a user up by exact username (case-insensitive). `bridged` names the other network of a
   * bridged identity (`xmpp`): its chats are end-to-end encrypted only as far as its gateway.
   */
  findUser(username: string): Promise<FoundUser | undefined> {
    return this.#m.directory.findUser(username);
  }

  // --- calls and devices ------------------------------------------------------------------------

  /** 1:1 voice and video calls (see docs/SDK.md "Calls"). */
  get calls(): CallManager {
    return this.#m.calls;
  }

  /**
   * Phone lines: this person's own SIP phones, hosted by a Sori SIP gateway; they ring with this
   * person's devices and call as them (see docs/SDK.md "Phone lines").
   */
  get phoneLines(): PhoneLines {
    return this.#m.phoneLines;
  }

  /**
   * Contacts: requests to be someone's contact and their answers, kept per person on this device and
   * shared with this user's other devices (see docs/SDK.md "Contacts").
   */
  get contacts(): Contacts {
    return this.#m.contacts;
  }

  /**
   * Web Push: this device's push subscription, so that the server wakes it (a service worker) while it
   * is offline; a wake-up says only "message" or "call" (see docs/SDK.md "Push notifications").
   */
  get push(): Push {
    return this.#m.push;
  }

  /** This account's active devices. */
  devices(): Promise<DeviceList> {
    return this.#m.devices.list();
  }

  /** Revokes another device of this account; chats drop it the next time anyone sends. */
  revokeDevice(deviceId: string): Promise<void> {
    return this.#m.devices.revoke(deviceId);
  }

  /** Revokes this device on the server and forgets everything stored locally. */
  async logout(): Promise<void> {
    await this.close();
    await this.#m.devices.logout(this.#m.ctx.storage);
  }
}

/** Whether user input is a chat id (16 bytes, base64url) rather than a username. */
export function isChatId(text: string): boolean {
  const bytes = fromBase64Url(text);
  return bytes !== undefined && bytes.length === 16;
}
