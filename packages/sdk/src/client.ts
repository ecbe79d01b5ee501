import { fromBase64Url } from "@sori/protocol";
import { CallHistory } from "./calls/call-history.ts";
import { createCallHost } from "./calls/call-host.ts";
import { CallManager } from "./calls/call-manager.ts";
import type { ClientEvents, ConnectionState } from "./client-events.ts";
import type { DeviceContext } from "./device/device-context.ts";
import { type DeviceEnrolment, deviceKeysOf, identityOf, loadEnrolment } from "./device/device-enrolment.ts";
import { type DeviceList, Devices } from "./device/devices.ts";
import { AccountIdentity } from "./device/account-identity.ts";
import { type DeviceApprovalRequest, DeviceApprovals } from "./device/device-approvals.ts";
import { Directory } from "./device/directory.ts";
import { TrustStore } from "./device/trust-store.ts";
import { enrol, type EnrolMode, parseLinkQr } from "./device/enrolment.ts";
import { KeyPackages } from "./device/key-packages.ts";
import { SdkError } from "./errors.ts";
import type { FileInput, TransferProgress } from "./features/attachments.ts";
import { Files } from "./features/files.ts";
import { Profiles } from "./features/profiles.ts";
import { type SafetyNumberInfo, SafetyNumbers } from "./features/safety-numbers.ts";
import { loadSettings, saveSettings } from "./features/settings.ts";
import type { StickerPack } from "./features/sticker-packs.ts";
import { Stickers } from "./features/stickers.ts";
import { Timers } from "./features/timers.ts";
import { ChatList, type ChatSummary } from "./groups/chat-list.ts";
import { GroupStates } from "./groups/group-states.ts";
import { checkGroupName, Membership } from "./groups/membership.ts";
import { PendingCommits } from "./groups/pending-commits.ts";
import { Rejoin } from "./groups/rejoin.ts";
import { type ChatMessage, ChatStore } from "./messages/chat-store.ts";
import { ContentHandler } from "./messages/content-handler.ts";
import { isExpired, Expiry } from "./messages/expiry.ts";
import { Inbox } from "./messages/inbox.ts";
import { checkTextLength, MessageActions } from "./messages/message-actions.ts";
import type { ClientSettings } from "./messages/message-features.ts";
import { MessageSender } from "./messages/message-sender.ts";
import { Receipts } from "./messages/receipts.ts";
import { SenderOrder } from "./messages/sender-order.ts";
import type { ClientStorage } from "./storage/storage.ts";
import { Connection } from "./transport/connection.ts";
import { changePassword } from "./transport/http-api.ts";
import { Mutex } from "./util/mutex.ts";
import { TypedEmitter } from "./util/typed-emitter.ts";

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
  readonly #ctx: DeviceContext;
  readonly #connection: Connection;
  readonly #directory: Directory;
  readonly #keyPackages: KeyPackages;
  readonly #pending: PendingCommits;
  readonly #chatList: ChatList;
  readonly #membership: Membership;
  readonly #sender: MessageSender;
  readonly #inbox: Inbox;
  readonly #receipts: Receipts;
  readonly #actions: MessageActions;
  readonly #expiry: Expiry;
  readonly #files: Files;
  readonly #stickers: Stickers;
  readonly #safety: SafetyNumbers;
  readonly #profiles: Profiles;
  readonly #timers: Timers;
  readonly #devices: Devices;
  readonly #calls: CallManager;
  readonly #account: AccountIdentity;
  readonly #approvals: DeviceApprovals;

  private constructor(storage: ClientStorage, enrolment: DeviceEnrolment) {
    const events = new TypedEmitter<ClientEvents>();
    const groups = new GroupStates(storage);
    const connection: Connection = new Connection(enrolment, events, {
      onConnected: (restored) => {
        if (restored) this.#calls.connectionRestored();
        if (this.#pending.any) ctx.later(() => this.#pending.flushAll());
      },
      onDisconnected: () => this.#inbox.disconnected(),
      onDelivery: (d) => this.#inbox.push(d),
      onRelay: (r) => void this.#inbox.relay(r),
      onSynced: (upTo) => this.#inbox.synced(upTo),
      onKeyPackagesLow: () => {
        if (account.approved) void this.#keyPackages.refill();
      },
      onAuthFailed: (refusal) => {
        this.#inbox.wake();
        this.#approvals.signedOut(refusal.message);
        ctx.events.emit("signed-out", refusal);
      },
    });
    const identity = identityOf(enrolment);
    const keys = deviceKeysOf(enrolment);
    const account = new AccountIdentity(storage, identity, keys);
    this.#account = account;
    const ctx: DeviceContext = {
      enrolment,
      identity,
      keys,
      account,
      storage,
      chats: new ChatStore(storage),
      groups,
      mutex: new Mutex(),
      events,
      request: (request) => connection.request(request),
      warn: (code, message) => events.emit("warning", { code, message }),
      later: (task) => {
        setTimeout(() => {
          task().catch((e: unknown) =>
            events.emit("warning", {
              code: "reconcile-failed",
              message: `could not update a chat's devices: ${(e as Error).message}`,
            }),
          );
        }, 0);
      },
    };
    this.#ctx = ctx;
    this.#connection = connection;
    const trust = new TrustStore(storage);
    const directory = new Directory(ctx, enrolment, trust, {
      identityChanged: (userId) => this.#safety.identityChanged(userId),
    });
    this.#directory = directory;
    this.#keyPackages = new KeyPackages(ctx);
    const chatList = new ChatList(ctx, directory);
    this.#chatList = chatList;
    groups.onMembersChanged((groupId, userIds) => chatList.membersChanged(groupId, userIds));
    // What the device sends by itself (receipts, profiles) waits quietly while a key change is pending.
    const autoSend = (chat: string, content: Parameters<MessageSender["sendContent"]>[1]): Promise<number> =>
      this.#sender.sendContent(chat, content, { whenBlocked: "skip" });
    const expiresAt = (at: number): void => this.#expiry.schedule(at);
    const emitChat = (chat: string): Promise<void> => chatList.emitChat(chat);
    const chatFor = (target: string): Promise<ChatSummary> => this.#chatFor(target);

    const safety = new SafetyNumbers(ctx, directory, trust);
    const senderOrder = new SenderOrder(ctx, directory);
    this.#safety = safety;
    this.#approvals = new DeviceApprovals(ctx, account);
    this.#pending = new PendingCommits(ctx, {
      adopted: (groupId) => chatList.emitChat(groupId),
      sendMeta: (groupId) => this.#membership.sendMeta(groupId, "skip"),
    });
    this.#profiles = new Profiles(ctx, autoSend);
    const rejoin = new Rejoin(ctx, { pending: this.#pending, directory });
    this.#membership = new Membership(ctx, {
      pending: this.#pending,
      directory,
      chatList,
      sendContent: (chat, content, options) => this.#sender.sendContent(chat, content, options),
      sendOwnProfile: (groupId) => this.#profiles.shareIn(groupId),
      requireTrusted: (userIds) => safety.requireTrusted(userIds),
      pendingChanges: (userIds) => trust.pendingChanges(userIds),
      refused: (groupId, refused, options) => safety.refused(groupId, refused, options),
    });
    this.#sender = new MessageSender(ctx, {
      pending: this.#pending,
      reconcile: (groupId) => this.#membership.reconcile(groupId),
      connected: () => connection.started,
      waitConnected: () => connection.waitConnected(),
      userMessageSent: (chatId) => this.#actions.messageSent(chatId),
      expiresAt,
      nextSeq: (groupId) => senderOrder.next(groupId),
      releaseSeq: (groupId, seq) => senderOrder.release(groupId, seq),
      blockedBy: (groupId) => safety.blockedBy(groupId),
      changedError: (userIds) => safety.changedError(userIds),
      isBehind: (groupId) => rejoin.isBehind(groupId),
      refusedDevices: () => this.#membership.refusedDevices,
    });
    this.#expiry = new Expiry(ctx, emitChat);
    this.#receipts = new Receipts(ctx, { send: autoSend, emitChat, expiresAt });
    this.#actions = new MessageActions(ctx, {
      chatList,
      sender: this.#sender,
      chatFor,
      uploadCopy: (bytes) => this.#files.upload(bytes),
    });
    this.#files = new Files(ctx, {
      chatList,
      sender: this.#sender,
      chatFor,
      replyOf: (chatId, options) => this.#actions.replyOf(chatId, options),
      expiresAt,
    });
    this.#stickers = new Stickers(ctx, {
      chatList,
      sender: this.#sender,
      files: this.#files,
      replyOf: (chatId, options) => this.#actions.replyOf(chatId, options),
    });
    this.#timers = new Timers(ctx, { sender: this.#sender, directory, chatList });
    const callHistory = new CallHistory(ctx, directory, emitChat);
    this.#calls = new CallManager(
      createCallHost(ctx, { sender: this.#sender, history: callHistory, chatList, chatFor }),
    );
    const callSignal: ContentHandlerCallSignal = (chat, sender, content, sentAt) =>
      this.#calls.handleSignal(chat, sender, content.callId, content.signal, sentAt);
    const content = new ContentHandler(ctx, {
      directory,
      chatList,
      membership: this.#membership,
      receipts: this.#receipts,
      actions: this.#actions,
      profiles: this.#profiles,
      timers: this.#timers,
      stickers: this.#stickers,
      callHistory,
      callSignal: (chat, sender, c, sentAt) => ctx.later(async () => callSignal(chat, sender, c, sentAt)),
      expiresAt,
    });
    this.#inbox = new Inbox(ctx, {
      pending: this.#pending,
      directory,
      keyPackages: this.#keyPackages,
      ack: (upTo) => connection.ack(upTo),
      authFailed: () => connection.authFailed,
      onContent: (chat, senderId, sentAt, c, senderDevice) =>
        content.handle(chat, senderId, sentAt, c, senderDevice),
      onCallSignal: callSignal,
      sequenced: (chat, sender, seq, messageId) => senderOrder.arrived(chat, sender, seq, messageId),
      fellBehind: (groupId, epoch) => rejoin.fellBehind(groupId, epoch),
      isBehind: (groupId) => rejoin.isBehind(groupId),
      rejoined: (groupId) => rejoin.rejoined(groupId),
      rejoinRequested: (groupId, from, request) => rejoin.requested(groupId, from, request),
      deactivate: (groupId) => this.#membership.deactivate(groupId),
      addOwnDevice: async (deviceId, at) => {
        // Told on every device of the account, with a way to sign it out if it is not the person's.
        const listed = await this.#devices
          .list()
          .catch(() => ({ devices: [] as { deviceId: string; name: string }[] }));
        const name = listed.devices.find((d) => d.deviceId === deviceId)?.name ?? "a new device";
        events.emit("own-device", { deviceId, name, at });
        await this.#membership.addOwnDevice();
      },
      devicePending: () => this.#approvals.onPending(),
      deviceApproved: () => this.#approvals.onApproved(),
      membersChanged: async (groupId, _before, _after, change) => {
        for (const m of change.added)
          if (!directory.knowsUsername(m.userId)) void directory.usernameOf(m.userId);
        if (change.added.length > 0 || change.removed.length > 0) void chatList.emitChat(groupId);
      },
      joined: async (groupId) => {
        await safety.noteInNewChat(groupId);
        await this.#profiles.shareIn(groupId);
      },
      drained: () => this.#receipts.flushLater(),
    });
    this.#devices = new Devices(enrolment);
    // Approved while connected: the first KeyPackages make the device active, and others add it.
    events.on("approved", () => ctx.later(() => this.#keyPackages.refill()));
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

  /** A client whose account state is read already, so `approval` is right before connecting. */
  static async #create(storage: ClientStorage, enrolment: DeviceEnrolment): Promise<SoriClient> {
    const client = new SoriClient(storage, enrolment);
    await client.#account.load();
    return client;
  }

  /**
   * A single-use code (valid 10 minutes) that lets a new device join this account without the
   * password: show `code` to type, or `qr` as a QR code for the new device to scan.
   */
  createDeviceLink(): Promise<{ code: string; expiresAt: number; qr: string }> {
    return this.#approvals.createLink();
  }

  /**
   * "approved" once the account signed this device in; "pending" while it waits for another device of
   * the account to approve it (see approvalCode and waitForApproval).
   */
  get approval(): "approved" | "pending" {
    return this.#account.approved ? "approved" : "pending";
  }

  /**
   * How this device joined its account: "init-required" (it made a new account), "pending" (another
   * device approved it, or must still), "reset-required" (the account had no device left: this one gave
   * it a new identity key, and contacts see the safety number change).
   */
  signedInAs(): Promise<"init-required" | "pending" | "reset-required" | undefined> {
    return this.#approvals.signedInAs();
  }

  /** The code a waiting device shows: the approving device shows the same one beside the request. */
  approvalCode(): Promise<string | undefined> {
    return this.#approvals.code();
  }

  /**
   * Waits (connected) until another device of the account approves this one; "approval-rejected" if it
   * was refused, "timeout" after `timeoutMs` (default 10 minutes).
   */
  async waitForApproval(options: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.#account.approved) await this.#approvals.waitApproved(options.timeoutMs ?? APPROVAL_WAIT_MS);
    // Resolves once the device is active too: its KeyPackages are out, so others can add it.
    await this.#keyPackages.refill();
    await this.#pending.flushAll();
  }

  /**
   * For a waiting device whose person has no other device left: gives the account a new identity key.
   * Every other device of the account is signed out, and every contact sees the safety number change.
   */
  async resetIdentity(): Promise<void> {
    await this.#approvals.resetIdentity();
  }

  /** Devices of this account waiting for approval (also announced by the "device-approval" event). */
  pendingDevices(): Promise<DeviceApprovalRequest[]> {
    return this.#approvals.review();
  }

  /** Approves a waiting device of this account (compare its code first): it becomes part of the account. */
  approveDevice(deviceId: string): Promise<void> {
    return this.#approvals.approve(deviceId);
  }

  /** Refuses a waiting device: it is signed out. */
  rejectDevice(deviceId: string): Promise<void> {
    return this.#approvals.reject(deviceId);
  }

  /** Changes the account's password; every other device is signed out (re-link them with a code). */
  async changePassword(current: string, next: string): Promise<void> {
    await changePassword(this.serverUrl, this.#ctx.enrolment.token, current, next);
  }

  get userId(): string {
    return this.#ctx.enrolment.userId;
  }
  get username(): string {
    return this.#ctx.enrolment.username;
  }
  get deviceId(): string {
    return this.#ctx.enrolment.deviceId;
  }
  get serverUrl(): string {
    return this.#ctx.enrolment.serverUrl;
  }

  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    return this.#ctx.events.on(event, listener);
  }

  // --- connection -------------------------------------------------------------------------------

  /**
   * Connects and resolves once everything queued for this device while it was offline has been
   * processed. Afterwards the client stays connected, reconnecting with backoff, until close().
   */
  async connect(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
    await this.#expiry.start();
    if (!this.#connection.started) {
      await this.#pending.load();
      await this.#sender.loadInterrupted();
      this.#connection.start();
    }
    await this.#connection.waitConnected(timeoutMs);
    await this.waitSynced(timeoutMs);
    // Until the account signs this device in, it can take part in nothing (no KeyPackages, no chats).
    if (!(await this.#approvals.settle())) return;
    await this.#keyPackages.refill();
    await this.#pending.flushAll();
    this.#sender.resendInterrupted();
    this.#ctx.later(async () => {
      await this.#approvals.review();
    });
  }

  /** Resolves when the queue pushed at (re)connect time has been processed. */
  waitSynced(timeoutMs: number): Promise<void> {
    return this.#inbox.waitSynced(timeoutMs);
  }

  /** "connecting" until the first connection, "disconnected" while reconnecting after a loss. */
  get connectionState(): ConnectionState {
    return this.#connection.state;
  }

  /** Simulates a network failure (for tests and diagnostics): the client reconnects by itself. */
  dropConnection(): void {
    this.#connection.drop();
  }

  /** Disconnects after in-flight processing has finished. */
  async close(): Promise<void> {
    // A call must not outlive its client: hang up and give the signal a moment to go out.
    if (this.#calls.active) {
      this.#calls.hangupAll();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.#calls.flush(), new Promise((r) => (timer = setTimeout(r, HANGUP_FLUSH_MS)))]);
      clearTimeout(timer);
    }
    this.#expiry.stop();
    await this.#inbox.stop();
    await this.#ctx.mutex.run(async () => undefined);
    this.#connection.close();
  }

  /** How many one-time KeyPackages of this device the server still holds. */
  keyPackageCount(): Promise<number> {
    return this.#keyPackages.remaining();
  }

  // --- chats ------------------------------------------------------------------------------------

  /** Every chat this device knows, most recently active first. */
  chats(): Promise<ChatSummary[]> {
    return this.#chatList.chats();
  }

  /** Finds a chat by id, or the newest active direct chat with a username. */
  findChat(idOrUsername: string): Promise<ChatSummary | undefined> {
    return this.#chatList.findChat(idOrUsername);
  }

  /** The direct chat with `username`, created if there is none yet. */
  async startDirectChat(username: string): Promise<ChatSummary> {
    if (username.toLowerCase() === this.username.toLowerCase())
      throw new SdkError("bad-request", "you cannot start a direct chat with yourself");
    const existing = await this.findChat(username);
    if (existing) return existing;
    return this.#membership.createChat("direct", null, [username]);
  }

  /** Creates a group with a name and members (usernames). */
  createGroup(name: string, usernames: string[]): Promise<ChatSummary> {
    const trimmed = checkGroupName(name);
    return this.#membership.createChat(
      "group",
      trimmed,
      usernames.filter((u) => u.toLowerCase() !== this.username.toLowerCase()),
    );
  }

  /** Adds a user (all of their devices) to a group. */
  addMember(chatId: string, username: string): Promise<void> {
    return this.#membership.addMember(chatId, username);
  }

  /** Removes a user (all of their devices) from a group. They cannot read anything sent afterwards. */
  removeMember(chatId: string, username: string): Promise<void> {
    return this.#membership.removeMember(chatId, username);
  }

  /** Renames a group for everyone in it. */
  renameGroup(chatId: string, name: string): Promise<void> {
    return this.#membership.renameGroup(chatId, name);
  }

  /** Leaves a group: the others' devices remove this user's devices; history stays on this device. */
  leaveGroup(chatId: string): Promise<void> {
    return this.#membership.leaveGroup(chatId);
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
   * `replyTo` quotes a message of the chat.
   */
  async sendText(
    chatOrUsername: string,
    text: string,
    options: { replyTo?: string } = {},
  ): Promise<ChatMessage> {
    if (text.trim().length === 0) throw new SdkError("bad-request", "cannot send an empty message");
    checkTextLength(text);
    const chat = await this.#chatFor(chatOrUsername);
    return this.#sender.sendUserMessage(chat.id, {
      kind: "text",
      text,
      ...(await this.#actions.replyOf(chat.id, options)),
    });
  }

  /** Sends a sticker, e.g. `{ pack: "sori", id: "hello" }` from the built-in set. */
  sendSticker(
    chatId: string,
    sticker: { pack: string; id: string },
    options: { replyTo?: string } = {},
  ): Promise<ChatMessage> {
    return this.#stickers.send(chatId, sticker, options);
  }

  /** Sends again an outgoing message whose sending failed, under the same id. */
  async retry(chatId: string, messageId: string): Promise<ChatMessage> {
    const m = await this.#ctx.chats.getMessage(chatId, messageId);
    if (!m || !m.outgoing) throw new SdkError("not-found", "no such outgoing message on this device");
    if (m.status !== "failed") return m;
    if (m.kind === "file" && !m.fileRef) await this.#files.uploadAgain(chatId, m);
    return this.#sender.deliverOutgoing(m);
  }

  /** Local history of a chat, oldest first: the `limit` newest messages before `before` (an order). */
  history(chatId: string, options: { limit?: number; before?: number } = {}): Promise<ChatMessage[]> {
    return this.#ctx.chats.history(chatId, options).then((list) => list.filter((m) => !isExpired(m)));
  }

  /** Messages from others that arrived since the last call, oldest first; each is returned once. */
  takeReceived(): Promise<ChatMessage[]> {
    return this.#ctx.chats.takeFeed().then((list) => list.filter((m) => !isExpired(m)));
  }

  /**
   * Marks every message of a chat as read (unread count 0): starts the disappearing timers of the
   * messages read, and tells the senders (unless read receipts are off in settings).
   */
  markRead(chatId: string): Promise<void> {
    return this.#receipts.markRead(chatId);
  }

  /** Searches this device's local history (the server cannot: it holds only ciphertext). Newest first. */
  search(query: string, options: { chat?: string; limit?: number } = {}): Promise<ChatMessage[]> {
    return this.#ctx.chats.search(query, options).then((list) => list.filter((m) => !isExpired(m)));
  }

  /** Toggles this user's reaction with `emoji` (any emoji) on a message; returns whether it is now on. */
  react(chatId: string, messageId: string, emoji: string): Promise<boolean> {
    return this.#actions.react(chatId, messageId, emoji);
  }

  /** Changes the text of one of this user's messages, for everyone; it shows as edited. */
  editMessage(chatId: string, messageId: string, text: string): Promise<ChatMessage> {
    return this.#actions.edit(chatId, messageId, text);
  }

  /** Deletes one of this user's messages on every device of every member ("message deleted"). */
  deleteForEveryone(chatId: string, messageId: string): Promise<ChatMessage> {
    return this.#actions.deleteForEveryone(chatId, messageId);
  }

  /** Removes a message from this device only. */
  deleteLocally(chatId: string, messageId: string): Promise<void> {
    return this.#actions.deleteLocally(chatId, messageId);
  }

  /** Forwards a message (text, sticker or file) to another chat, marked as forwarded. */
  forward(fromChatId: string, messageId: string, toChatOrUsername: string): Promise<ChatMessage> {
    return this.#actions.forward(fromChatId, messageId, toChatOrUsername);
  }

  /**
   * Tells the chat this user is typing (`true`) or stopped (`false`). Does nothing when typing
   * indicators are off in settings; repeated `true` calls are sent at most every 3 seconds.
   */
  setTyping(chatId: string, typing: boolean): Promise<void> {
    return this.#actions.setTyping(chatId, typing);
  }

  /**
   * Sets the chat's disappearing-message timer in seconds (0 = off, at most a week; apps offer
   * TIMER_CHOICES) for every member; the change is announced in the chat.
   */
  setTimer(chatId: string, seconds: number): Promise<void> {
    return this.#timers.set(chatId, seconds);
  }

  // --- files and stickers -----------------------------------------------------------------------

  /**
   * Sends a file (image, voice message, anything up to the server's limit): encrypted here with a
   * fresh AES-256-GCM key, uploaded in resumable chunks (`transfer` events and `onProgress`), then
   * announced in an MLS message carrying the key and hash. The message shows as "sending" meanwhile.
   */
  sendFile(
    chatOrUsername: string,
    file: FileInput,
    options: { caption?: string; replyTo?: string; onProgress?: (p: TransferProgress) => void } = {},
  ): Promise<ChatMessage> {
    return this.#files.send(chatOrUsername, file, options);
  }

  /**
   * The decrypted bytes of a file message: from this device's storage, or downloaded (resumable,
   * `transfer` events), checked against its hash, decrypted and kept for next time.
   */
  downloadFile(
    chatId: string,
    messageId: string,
    options: { onProgress?: (p: TransferProgress) => void } = {},
  ): Promise<Uint8Array> {
    return this.#files.download(chatId, messageId, options);
  }

  /** Sticker packs on this device (made here or added from chats); the built-in one is not listed. */
  stickerPacks(): Promise<StickerPack[]> {
    return this.#stickers.list();
  }

  /** The image of a sticker of an installed pack (undefined for the built-in pack and unknown ones). */
  stickerImage(packId: string, stickerId: string): Promise<Uint8Array | undefined> {
    return this.#stickers.image(packId, stickerId);
  }

  /** Makes a sticker pack on this device from images (≤ 512 KB each, 1–100). Share it with shareStickerPack. */
  createStickerPack(name: string, images: { bytes: Uint8Array; mime: string }[]): Promise<StickerPack> {
    return this.#stickers.create(name, images);
  }

  /** Shares an installed pack in a chat: its images as encrypted blobs, its manifest in a message. */
  shareStickerPack(chatId: string, packId: string): Promise<ChatMessage> {
    return this.#stickers.share(chatId, packId);
  }

  /** Adds a pack someone shared in a chat (the message of kind "sticker-pack"): downloads its images. */
  addStickerPack(chatId: string, messageId: string): Promise<StickerPack> {
    return this.#stickers.add(chatId, messageId);
  }

  /** Removes a sticker pack from this device. */
  removeStickerPack(packId: string): Promise<void> {
    return this.#stickers.remove(packId);
  }

  // --- safety numbers, settings, profiles ---------------------------------------------------------

  /**
   * The safety number with a contact: 60 digits (and a QR payload) over both accounts' identity keys.
   * Compare it in person or by scanning. It stays the same as either side adds or removes devices;
   * `changed` means their account key changed: compare the new number, then acceptSafetyNumberChange.
   */
  safetyNumber(username: string): Promise<SafetyNumberInfo> {
    return this.#safety.of(username);
  }

  /** Marks the safety number with a contact as verified (or not); verifying after a change accepts it. */
  setVerified(username: string, verified: boolean): Promise<void> {
    return this.#safety.setVerified(username, verified);
  }

  /**
   * Accepts a contact's new account key: until then nothing is sent to chats with them, and devices
   * under the new key are not added.
   */
  async acceptSafetyNumberChange(username: string): Promise<void> {
    await this.#safety.acceptChange(username);
    const user = await this.#directory.findUser(username);
    if (!user) return;
    // Their new devices can now join the chats this device shares with them.
    for (const c of await this.chats())
      if (c.active && c.memberIds.includes(user.userId))
        this.#ctx.later(() => this.#membership.reconcile(c.id));
  }

  /** Compares a scanned QR payload with the safety number; marks the contact verified if they match. */
  verifySafetyQr(username: string, payload: string): Promise<boolean> {
    return this.#safety.verifyQr(username, payload);
  }

  /** This device's privacy settings. */
  settings(): Promise<ClientSettings> {
    return loadSettings(this.#ctx.storage);
  }

  /** Changes settings: with read receipts or typing indicators off, they are not sent. */
  setSettings(patch: Partial<ClientSettings>): Promise<ClientSettings> {
    return saveSettings(this.#ctx.storage, patch);
  }

  /** Sets this user's display name and avatar and shares them, encrypted, with every chat. */
  setProfile(profile: { displayName?: string | null; avatar?: Uint8Array | null }): Promise<void> {
    return this.#profiles.set(profile);
  }

  /** A user's display name and avatar as last shared with this device. */
  profile(userId: string): Promise<{ displayName: string | null; avatar: Uint8Array | null }> {
    return this.#profiles.get(userId);
  }

  /** Looks a user up by exact username (case-insensitive). */
  findUser(username: string): Promise<{ userId: string; username: string } | undefined> {
    return this.#directory.findUser(username);
  }

  // --- calls and devices ------------------------------------------------------------------------

  /** 1:1 voice and video calls (see docs/SDK.md "Calls"). */
  get calls(): CallManager {
    return this.#calls;
  }

  /** This account's active devices. */
  devices(): Promise<DeviceList> {
    return this.#devices.list();
  }

  /** Revokes another device of this account; chats drop it the next time anyone sends. */
  revokeDevice(deviceId: string): Promise<void> {
    return this.#devices.revoke(deviceId);
  }

  /** Revokes this device on the server and forgets everything stored locally. */
  async logout(): Promise<void> {
    await this.close();
    await this.#devices.logout(this.#ctx.storage);
  }
}

type ContentHandlerCallSignal = ConstructorParameters<typeof Inbox>[1]["onCallSignal"];

/** Whether user input is a chat id (16 bytes, base64url) rather than a username. */
export function isChatId(text: string): boolean {
  const bytes = fromBase64Url(text);
  return bytes !== undefined && bytes.length === 16;
}
