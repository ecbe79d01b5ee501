import {
  addMembers,
  CryptoError,
  createGroup,
  type DeviceKeys,
  decodeGroup,
  decodeKeyPackageBundle,
  encodeGroup,
  encodeKeyPackageBundle,
  encrypt,
  generateDeviceKeys,
  generateKeyPackage,
  groupEpoch,
  groupIdOf,
  groupMembers,
  joinFromWelcome,
  type KeyPackageBundle,
  type MemberIdentity,
  type MlsGroup,
  processMessage,
  removeMembers,
} from "@sori/crypto";
import {
  type ClientRequest,
  type Delivery,
  fromBase64,
  type Relay,
  fromBase64Url,
  KEY_PACKAGE_BATCH,
  KEY_PACKAGE_LOW_WATER,
  type ResultOf,
  toBase64,
  toBase64Url,
  UNANSWERED_ACK_LEVEL,
} from "@sori/protocol";
import { CallManager } from "./calls/call-manager.ts";
import { newMessageId } from "./message-id.ts";
import type { CallLogBody, CallSignal } from "./calls/call-signal.ts";
import {
  type ChatMessage,
  type ChatRecord,
  ChatStore,
  type MessageStatus,
  publicView,
  type StoredMessage,
} from "./chat-store.ts";
import { type Content, decodeContent, encodeContent, MAX_TIMER_SECONDS } from "./content.ts";
import { SdkError } from "./errors.ts";
import { authenticate, claimLink, createLink, listDevices, logout, revokeDevice } from "./http-api.ts";
import {
  decryptAttachment,
  downloadBlob,
  encryptAttachment,
  type FileInput,
  releaseBlob,
  type TransferProgress,
  uploadBlob,
} from "./attachments.ts";
import {
  changePatch,
  type ClientSettings,
  contentForMessage,
  DEFAULT_SETTINGS,
  isReactionEmoji,
  snippetOf,
  TYPING_FRESH_MS,
} from "./message-features.ts";
import { Mutex } from "./mutex.ts";
import { type SafetyNumber, safetyNumberOf } from "./safety-number.ts";
import { BUILT_IN_PACK, checkStickerImages, type StickerPack, StickerPacks } from "./sticker-packs.ts";
import { type ClientStorage, getJson, putJson } from "./storage.ts";
import { Transport } from "./transport.ts";

/** A chat as this device knows it. The id is the MLS group id. */
export type ChatSummary = {
  id: string;
  kind: "direct" | "group";
  /** The group's name, or for a direct chat the other person's username. */
  name: string;
  /** Usernames of the members, this user included, sorted. */
  members: string[];
  /** User ids of the members, in the same order as `members`. */
  memberIds: string[];
  lastMessageAt: number | null;
  lastMessage: ChatMessage | null;
  /** Incoming messages since the last markRead(). */
  unread: number;
  /** False once this device was removed from the chat or left it. */
  active: boolean;
  /** Disappearing-message timer in seconds; 0 = off. */
  timer: number;
};

export type ConnectionState = "connecting" | "connected" | "disconnected";

export type ClientEvents = {
  message: (m: ChatMessage) => void;
  "message-status": (s: { chat: string; id: string; status: MessageStatus }) => void;
  /** A message changed: edited, deleted for everyone, reacted to. */
  "message-updated": (m: ChatMessage) => void;
  /** A message is gone from this device (its disappearing timer ran out, or deleted locally). */
  "message-removed": (m: { chat: string; id: string }) => void;
  /** An attachment upload or download moved on (bytes of ciphertext). */
  transfer: (t: { chat: string; id: string; direction: "up" | "down"; done: number; total: number }) => void;
  /** A contact's devices changed (their safety number changed; a verification no longer holds). */
  safety: (s: { userId: string; username: string }) => void;
  /** Another member started or stopped typing. */
  typing: (t: { chat: string; userId: string; username: string; typing: boolean }) => void;
  chat: (c: ChatSummary) => void;
  profile: (p: { userId: string }) => void;
  connection: (state: ConnectionState) => void;
  /** A problem the client handled but a person may want to know about (never contains content). */
  warning: (w: { code: string; message: string }) => void;
};

/** Largest avatar accepted by setProfile, in bytes (it travels inside one message). */
export const MAX_AVATAR_BYTES = 45_000;

type DeviceProfile = {
  serverUrl: string;
  userId: string;
  username: string;
  deviceId: string;
  token: string;
  signaturePublicKey: string;
  signaturePrivateKey: string;
};

/** A commit sent but not yet known to be accepted; resent as-is so a lost answer cannot fork the group. */
type PendingCommit = {
  groupId: string;
  epoch: number;
  commit: string;
  welcome: string | null;
  add: string[];
  remove: string[];
  newState: string;
  metaAfter: boolean;
};

type Listener = { [K in keyof ClientEvents]: Set<ClientEvents[K]> };

const ATTEMPTS = 6;
const CATCH_UP_TIMEOUT_MS = 10_000;
const OFFLINE_RETRIES = 3;
const DRAIN_RETRY_MS = 1000;

const K = {
  profile: "profile",
  state: "state",
  kp: (ref: string) => `kp/${ref}`,
  group: (id: string) => `group/${id}`,
  seen: (id: string) => `seen/${id}`,
  user: (id: string) => `user/${id}`,
  pending: (groupId: string) => `pending-commit/${groupId}`,
  /** An outgoing message not yet answered by the server: resent on the next start if the app died. */
  outbox: (chat: string, id: string) => `outbox/${chat}/${id}`,
  settings: "settings",
  safety: (userId: string) => `safety/${userId}`,
  file: (chat: string, id: string) => `file/${chat}/${id}`,
};

const identityKey = (m: MemberIdentity): string => `${m.userId}/${m.deviceId}`;

/**
 * One Sori device: its keys, its chats, and the link to the server. All MLS state changes (incoming
 * deliveries and local operations) run one at a time through a mutex, in the server's order.
 */
export class SoriClient {
  readonly #storage: ClientStorage;
  readonly #chats: ChatStore;
  readonly #stickers: StickerPacks;
  #connectionState: ConnectionState = "disconnected";
  /** Incoming message ids per chat to confirm with a receipt once the current batch is processed. */
  readonly #receipts = new Map<string, Set<string>>();
  readonly #profile: DeviceProfile;
  readonly #keys: DeviceKeys;
  readonly #mutex = new Mutex();
  readonly #listeners: Listener = {
    message: new Set(),
    "message-status": new Set(),
    "message-updated": new Set(),
    "message-removed": new Set(),
    typing: new Set(),
    transfer: new Set(),
    safety: new Set(),
    chat: new Set(),
    profile: new Set(),
    connection: new Set(),
    warning: new Set(),
  };
  readonly #directory = new Map<string, { userId: string; key: Uint8Array; revoked: boolean }>();
  readonly #usernames = new Map<string, string>();
  #transport: Transport | undefined;
  #inbox: Delivery[] = [];
  #draining: Promise<void> | undefined;
  #syncedUpTo = -1;
  #processedUpTo = 0;
  /** The connected server's feature level (from auth); 0 until the first connection. */
  #serverFeatureLevel = 0;
  #syncWaiters: (() => void)[] = [];
  #epochWaiters: (() => void)[] = [];
  #authFailed: string | undefined;
  #refilling: Promise<void> | undefined;
  #drainRetry: ReturnType<typeof setTimeout> | undefined;
  /** Groups with a commit sent whose answer never came (loaded at connect). */
  readonly #pendingGroups = new Set<string>();
  /** Outbox keys found at the first connect: sends a previous run of the app did not see answered. */
  #interrupted: string[] | undefined;
  readonly #calls: CallManager;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  #nextSweepAt = 0;
  /** No timers run before connect() or after close(). */
  #closed = true;
  /** Chats where this device last said "typing", and when. */
  readonly #typingSent = new Map<string, number>();

  private constructor(storage: ClientStorage, profile: DeviceProfile) {
    this.#storage = storage;
    this.#chats = new ChatStore(storage);
    this.#stickers = new StickerPacks(storage);
    this.#profile = profile;
    const pub = fromBase64(profile.signaturePublicKey);
    const priv = fromBase64(profile.signaturePrivateKey);
    if (!pub || !priv) throw new SdkError("storage", "the stored profile is damaged");
    this.#keys = { signaturePublicKey: pub, signaturePrivateKey: priv };
    this.#usernames.set(profile.userId, profile.username);
    this.#calls = this.#createCallManager();
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
    return SoriClient.#enroll("register", options);
  }

  /** Adds this device to an existing account. */
  static login(options: {
    serverUrl: string;
    username: string;
    password: string;
    storage: ClientStorage;
    deviceName?: string;
  }): Promise<SoriClient> {
    return SoriClient.#enroll("login", options);
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
    return SoriClient.#enroll("link", {
      serverUrl: parsed.serverUrl,
      username: "",
      password: parsed.code,
      storage: options.storage,
      ...(options.deviceName ? { deviceName: options.deviceName } : {}),
    });
  }

  /**
   * A single-use code (valid 10 minutes) that lets a new device join this account without the
   * password: show `code` to type, or `qr` as a QR code for the new device to scan.
   */
  async createDeviceLink(): Promise<{ code: string; expiresAt: number; qr: string }> {
    const r = await createLink(this.serverUrl, this.#profile.token);
    return { ...r, qr: `sori-link:${r.code}:${this.serverUrl}` };
  }

  static async #enroll(
    mode: "register" | "login" | "link",
    o: { serverUrl: string; username: string; password: string; storage: ClientStorage; deviceName?: string },
  ): Promise<SoriClient> {
    const existing = await getJson<DeviceProfile>(o.storage, K.profile);
    if (existing)
      throw new SdkError(
        "conflict",
        `this profile is already signed in as ${existing.username}; use another profile`,
      );
    const keys = await generateDeviceKeys();
    const device = { name: o.deviceName ?? "sori device", signatureKey: keys.signaturePublicKey };
    const res =
      mode === "link"
        ? await claimLink(o.serverUrl, o.password, device)
        : await authenticate(o.serverUrl, mode, o.username, o.password, device);
    const profile: DeviceProfile = {
      serverUrl: o.serverUrl,
      userId: res.userId,
      username: res.username,
      deviceId: res.deviceId,
      token: res.token,
      signaturePublicKey: toBase64(keys.signaturePublicKey),
      signaturePrivateKey: toBase64(keys.signaturePrivateKey),
    };
    await putJson(o.storage, K.profile, profile);
    const client = new SoriClient(o.storage, profile);
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
    const profile = await getJson<DeviceProfile>(storage, K.profile);
    if (!profile)
      throw new SdkError("not-logged-in", "no account on this profile yet: register or log in first");
    return new SoriClient(storage, profile);
  }

  get userId(): string {
    return this.#profile.userId;
  }
  get username(): string {
    return this.#profile.username;
  }
  get deviceId(): string {
    return this.#profile.deviceId;
  }
  get serverUrl(): string {
    return this.#profile.serverUrl;
  }

  get #identity(): MemberIdentity {
    return { userId: this.#profile.userId, deviceId: this.#profile.deviceId };
  }

  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    (this.#listeners[event] as Set<ClientEvents[E]>).add(listener);
    return () => (this.#listeners[event] as Set<ClientEvents[E]>).delete(listener);
  }

  #emit<E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>): void {
    for (const l of this.#listeners[event] as Set<(...a: Parameters<ClientEvents[E]>) => void>) {
      try {
        l(...args);
      } catch {
        // A listener's failure must not stop message processing.
      }
    }
  }

  #warn(code: string, message: string): void {
    this.#emit("warning", { code, message });
  }

  // --- connection -------------------------------------------------------------------------------

  /**
   * Connects and resolves once everything queued for this device while it was offline has been
   * processed. Afterwards the client stays connected, reconnecting with backoff, until close().
   */
  async connect(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 15_000;
    this.#closed = false;
    await this.#sweepExpired();
    if (!this.#transport) {
      for (const key of await this.#storage.list("pending-commit/"))
        this.#pendingGroups.add(key.slice("pending-commit/".length));
      this.#interrupted = await this.#storage.list("outbox/");
      this.#transport = new Transport({
        serverUrl: this.#profile.serverUrl,
        token: this.#profile.token,
        events: {
          onConnected: (info) => void this.#onConnected(info),
          onDisconnected: () => {
            this.#syncedUpTo = -1;
            this.#setConnection("disconnected");
          },
          onDelivery: (d) => {
            this.#inbox.push(d);
            this.#drain();
          },
          onRelay: (r) => void this.#onRelay(r),
          onSynced: (upTo) => {
            this.#syncedUpTo = upTo;
            this.#checkSynced();
          },
          onKeyPackagesLow: () => void this.#refillKeyPackages(),
          onAuthFailed: (message) => {
            this.#authFailed = message;
            for (const w of this.#syncWaiters.splice(0)) w();
          },
        },
      });
      this.#setConnection("connecting");
      this.#transport.start();
    }
    await this.#transport.waitConnected(timeoutMs).catch((e: unknown) => {
      if (this.#authFailed) throw new SdkError("auth-failed", this.#authFailed);
      throw e;
    });
    await this.waitSynced(timeoutMs);
    await this.#refillKeyPackages();
    await this.#flushPendingCommits();
    const interrupted = this.#interrupted ?? [];
    this.#interrupted = [];
    if (interrupted.length > 0)
      void this.#resendInterrupted(interrupted).catch((e: unknown) =>
        this.#warn("resend-failed", `could not resend an interrupted message (${codeOf(e)})`),
      );
  }

  /**
   * Sends again, in their original order and under their original ids, the messages a previous run left
   * "sending" (the app was closed or crashed before the server answered). If the server had accepted one,
   * it answers the resend as a duplicate, so nothing arrives twice.
   */
  async #resendInterrupted(keys: string[]): Promise<void> {
    const messages: ChatMessage[] = [];
    for (const key of keys) {
      const [, chat, id] = key.split("/");
      const m = chat && id ? await this.#chats.getMessage(chat, id) : undefined;
      if (m?.outgoing && m.status === "sending") messages.push(m);
      else await this.#storage.delete(key);
    }
    messages.sort((a, b) => a.order - b.order);
    for (const m of messages) {
      try {
        await this.#deliverOutgoing(m);
      } catch (error) {
        this.#warn("resend-failed", `could not resend an interrupted message (${codeOf(error)})`);
      }
    }
  }

  /** Resolves when the queue pushed at (re)connect time has been processed. */
  waitSynced(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): boolean => {
        if (this.#authFailed) {
          reject(new SdkError("auth-failed", this.#authFailed));
          return true;
        }
        if (
          this.#syncedUpTo >= 0 &&
          this.#processedUpTo >= this.#syncedUpTo &&
          this.#inbox.length === 0 &&
          !this.#draining
        ) {
          resolve();
          return true;
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== waiter);
        reject(new SdkError("timeout", "timed out catching up with the server"));
      }, timeoutMs);
      const waiter = (): void => {
        if (check()) clearTimeout(timer);
        else this.#syncWaiters.push(waiter);
      };
      this.#syncWaiters.push(waiter);
    });
  }

  #checkSynced(): void {
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  async #onConnected(info: ResultOf<"auth">): Promise<void> {
    this.#serverFeatureLevel = info.featureLevel;
    const wasDisconnected = this.#connectionState === "disconnected";
    this.#setConnection("connected");
    if (wasDisconnected) this.#calls.connectionRestored();
    if (this.#pendingGroups.size > 0) {
      this.#afterDrain(() => this.#flushPendingCommits());
    }
  }

  #setConnection(state: ConnectionState): void {
    if (this.#connectionState === state) return;
    this.#connectionState = state;
    this.#emit("connection", state);
  }

  /** "connecting" until the first connection, "disconnected" while reconnecting after a loss. */
  get connectionState(): ConnectionState {
    return this.#connectionState;
  }

  /** Simulates a network failure (for tests and diagnostics): the client reconnects by itself. */
  dropConnection(): void {
    this.#transport?.dropConnection();
  }

  /** Disconnects after in-flight processing has finished. */
  async close(): Promise<void> {
    // A call must not outlive its client: hang up and give the signal a moment to go out.
    if (this.#calls.active) {
      this.#calls.hangupAll();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.#calls.flush(), new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
    }
    clearTimeout(this.#drainRetry);
    this.#drainRetry = undefined;
    this.#closed = true;
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    await this.#draining;
    await this.#mutex.run(async () => undefined);
    this.#transport?.close();
    this.#transport = undefined;
  }

  /**
   * Sends a request; if the connection is lost before the answer, waits for the reconnect and sends it
   * again. Every request is safe to repeat: the server recognises resent messages and commits by id.
   */
  async #request<R extends ClientRequest>(request: R): Promise<ResultOf<R["type"]>> {
    for (let attempt = 0; ; attempt++) {
      const transport = this.#transport;
      if (!transport) throw new SdkError("offline", "not connected: call connect() first");
      try {
        return await transport.request(request);
      } catch (error) {
        const lost = error instanceof SdkError && (error.code === "offline" || error.code === "timeout");
        if (!lost || attempt >= OFFLINE_RETRIES) throw error;
        await transport.waitConnected(CATCH_UP_TIMEOUT_MS);
      }
    }
  }

  // --- KeyPackages ------------------------------------------------------------------------------

  /** Keeps the server stocked with this device's KeyPackages; the first upload activates the device. */
  async #refillKeyPackages(): Promise<void> {
    if (this.#refilling) return this.#refilling;
    this.#refilling = (async () => {
      const status = await this.#request({ type: "kp.status" });
      if (status.remaining >= KEY_PACKAGE_LOW_WATER && status.hasLastResort) return;
      const bundles: KeyPackageBundle[] = [];
      const count = Math.max(0, KEY_PACKAGE_BATCH - status.remaining);
      for (let i = 0; i < count; i++) bundles.push(await generateKeyPackage(this.#identity, this.#keys));
      const lastResort = status.hasLastResort
        ? undefined
        : await generateKeyPackage(this.#identity, this.#keys, { lastResort: true });
      // Private halves are stored first: a Welcome can arrive as soon as the public ones are out.
      for (const b of lastResort ? [...bundles, lastResort] : bundles)
        await this.#storage.put(K.kp(b.ref), encodeKeyPackageBundle(b));
      await this.#request({
        type: "kp.upload",
        keyPackages: bundles.map((b) => toBase64(b.publicKeyPackage)),
        ...(lastResort ? { lastResort: toBase64(lastResort.publicKeyPackage) } : {}),
      });
    })()
      .catch((error: unknown) =>
        this.#warn("kp-refill-failed", `could not refill KeyPackages: ${(error as Error).message}`),
      )
      .finally(() => {
        this.#refilling = undefined;
      });
    return this.#refilling;
  }

  /** How many one-time KeyPackages of this device the server still holds. */
  async keyPackageCount(): Promise<number> {
    return (await this.#request({ type: "kp.status" })).remaining;
  }

  // --- directory and credentials -----------------------------------------------------------------

  /** Checks an MLS credential against the server's device directory. */
  readonly #validate = async (identity: MemberIdentity, signaturePublicKey: Uint8Array): Promise<boolean> => {
    let entry = this.#directory.get(identity.deviceId);
    if (!entry) {
      // A failed lookup throws (crypto reports it as "internal"): it is not a rejection, and the
      // delivery that needed it is retried instead of dropped.
      const { devices } = await this.#request({ type: "dir.devices", deviceIds: [identity.deviceId] });
      for (const d of devices)
        this.#directory.set(d.deviceId, { userId: d.userId, key: d.signatureKey, revoked: d.revoked });
      entry = this.#directory.get(identity.deviceId);
    }
    return (
      entry !== undefined && entry.userId === identity.userId && bytesEqual(entry.key, signaturePublicKey)
    );
  };

  async #lookupUsers(usernames: string[]): Promise<ResultOf<"dir.users">["users"]> {
    const { users, unknown } = await this.#request({ type: "dir.users", usernames });
    if (unknown.length > 0) throw new SdkError("unknown-user", `no such user: ${unknown.join(", ")}`);
    this.#remember(users);
    return users;
  }

  #remember(users: ResultOf<"dir.users">["users"]): void {
    for (const u of users) {
      this.#usernames.set(u.userId, u.username);
      void putJson(this.#storage, K.user(u.userId), { username: u.username });
      for (const d of u.devices)
        this.#directory.set(d.deviceId, { userId: u.userId, key: d.signatureKey, revoked: d.revoked });
    }
  }

  async #usernameOf(userId: string): Promise<string> {
    const cached =
      this.#usernames.get(userId) ??
      (await getJson<{ username: string }>(this.#storage, K.user(userId)))?.username;
    if (cached) {
      this.#usernames.set(userId, cached);
      return cached;
    }
    try {
      const { users } = await this.#request({ type: "dir.users", userIds: [userId] });
      this.#remember(users);
    } catch {
      // Offline: show the id until the name is known.
    }
    return this.#usernames.get(userId) ?? userId;
  }

  // --- chats ------------------------------------------------------------------------------------

  /** Every chat this device knows, most recently active first. */
  async chats(): Promise<ChatSummary[]> {
    const out: ChatSummary[] = [];
    for (const rec of await this.#chats.listChats()) out.push(await this.#summary(rec));
    return out.sort((a, b) => (b.lastMessageAt ?? 0) - (a.lastMessageAt ?? 0));
  }

  async #summary(rec: ChatRecord): Promise<ChatSummary> {
    const groupBytes = rec.active ? await this.#storage.get(K.group(rec.id)) : undefined;
    const userIds = groupBytes
      ? [...new Set(groupMembers(decodeGroup(groupBytes)).map((m) => m.userId))]
      : [];
    const named: { userId: string; username: string }[] = [];
    for (const userId of userIds) named.push({ userId, username: await this.#usernameOf(userId) });
    named.sort((a, b) => a.username.localeCompare(b.username));
    let name = rec.name ?? "";
    if (rec.kind === "direct") {
      const other = named.find((m) => m.userId !== this.userId);
      name = other?.username ?? rec.name ?? "";
    }
    return {
      id: rec.id,
      kind: rec.kind,
      name,
      members: named.map((m) => m.username),
      memberIds: named.map((m) => m.userId),
      lastMessageAt: rec.lastMessageAt,
      lastMessage: rec.lastMessage,
      unread: rec.unread,
      active: rec.active,
      timer: rec.timer ?? 0,
    };
  }

  async #emitChat(id: string): Promise<void> {
    const rec = await this.#chats.getChat(id);
    if (rec) this.#emit("chat", await this.#summary(rec));
  }

  /** Finds a chat by id, or the newest active direct chat with a username. */
  async findChat(idOrUsername: string): Promise<ChatSummary | undefined> {
    const rec = await this.#chats.getChat(idOrUsername);
    if (rec) return this.#summary(rec);
    const lower = idOrUsername.toLowerCase();
    return (await this.chats()).find(
      (c) => c.kind === "direct" && c.active && c.name.toLowerCase() === lower,
    );
  }

  /** The direct chat with `username`, created if there is none yet. */
  async startDirectChat(username: string): Promise<ChatSummary> {
    if (username.toLowerCase() === this.username.toLowerCase())
      throw new SdkError("bad-request", "you cannot start a direct chat with yourself");
    const existing = await this.findChat(username);
    if (existing) return existing;
    return this.#createChat("direct", null, [username]);
  }

  /** Creates a group with a name and members (usernames). */
  createGroup(name: string, usernames: string[]): Promise<ChatSummary> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 100)
      throw new SdkError("bad-request", "a group name needs 1 to 100 characters");
    return this.#createChat(
      "group",
      trimmed,
      usernames.filter((u) => u.toLowerCase() !== this.username.toLowerCase()),
    );
  }

  async #createChat(
    kind: "direct" | "group",
    name: string | null,
    usernames: string[],
  ): Promise<ChatSummary> {
    const users = usernames.length > 0 ? await this.#lookupUsers(usernames) : [];
    const own = await this.#request({ type: "dir.users", userIds: [this.userId] });
    this.#remember(own.users);
    const deviceIds = [
      ...(own.users[0]?.devices ?? []).filter((d) => d.deviceId !== this.deviceId).map((d) => d.deviceId),
      ...users.flatMap((u) => u.devices.map((d) => d.deviceId)),
    ];
    const groupIdBytes = crypto.getRandomValues(new Uint8Array(16));
    const groupId = toBase64Url(groupIdBytes);
    await this.#mutex.run(async () => {
      let group = await createGroup(this.#identity, this.#keys, groupIdBytes);
      let welcome: Uint8Array | undefined;
      let added: string[] = [];
      if (deviceIds.length > 0) {
        const { keyPackages } = await this.#request({ type: "kp.claim", deviceIds });
        for (const u of users) {
          if (!keyPackages.some((k) => k.userId === u.userId)) {
            throw new SdkError("unknown-user", `${u.username} has no device that can be added right now`);
          }
        }
        const r = await addMembers(
          group,
          keyPackages.map((k) => k.keyPackage),
          this.#validate,
        );
        group = r.group;
        welcome = r.welcome;
        added = keyPackages.map((k) => k.deviceId);
      }
      const epoch = Number(groupEpoch(group));
      await this.#request({
        type: "group.create",
        groupId,
        epoch,
        members: added,
        ...(welcome ? { welcome: toBase64(welcome) } : {}),
      }).catch(async (error: unknown) => {
        // After a lost answer the resend finds the group already made: ours, if we are its member.
        if (!(error instanceof SdkError && error.code === "group-exists")) throw error;
        const info = await this.#request({ type: "group.info", groupId });
        if (info.epoch !== epoch || !info.members.some((m) => m.deviceId === this.deviceId)) throw error;
      });
      await this.#storage.put(K.group(groupId), encodeGroup(group));
      await this.#chats.putChat({
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
    await this.#sendContent(groupId, {
      v: 1,
      type: "meta",
      id: newMessageId(),
      kind,
      ...(name ? { name } : {}),
      sentAt: Date.now(),
    });
    await this.#sendOwnProfile(groupId);
    const summary = await this.#summary((await this.#chats.getChat(groupId))!);
    this.#emit("chat", summary);
    return summary;
  }

  async #requireChat(chatId: string): Promise<ChatRecord> {
    const rec = await this.#chats.getChat(chatId);
    if (!rec) throw new SdkError("unknown-chat", `no chat ${chatId} on this device`);
    if (!rec.active) throw new SdkError("not-member", "this device is no longer a member of that chat");
    return rec;
  }

  /** Adds a user (all of their devices) to a group. */
  async addMember(chatId: string, username: string): Promise<void> {
    const rec = await this.#requireChat(chatId);
    if (rec.kind !== "group") throw new SdkError("bad-request", "members can only be added to groups");
    const [user] = await this.#lookupUsers([username]);
    if (!user) throw new SdkError("unknown-user", `no such user: ${username}`);
    const group = await this.#loadGroup(chatId);
    const present = new Set(groupMembers(group).map((m) => m.deviceId));
    const missing = user.devices.map((d) => d.deviceId).filter((d) => !present.has(d));
    if (missing.length === 0) return;
    await this.#changeMembers(chatId, missing, []);
  }

  /** Removes a user (all of their devices) from a group. They cannot read anything sent afterwards. */
  async removeMember(chatId: string, username: string): Promise<void> {
    const rec = await this.#requireChat(chatId);
    if (rec.kind !== "group") throw new SdkError("bad-request", "members can only be removed from groups");
    if (username.toLowerCase() === this.username.toLowerCase())
      throw new SdkError("bad-request", "you cannot remove yourself; leaving is not supported yet");
    const [user] = await this.#lookupUsers([username]);
    if (!user) throw new SdkError("unknown-user", `no such user: ${username}`);
    const group = await this.#loadGroup(chatId);
    const devices = groupMembers(group)
      .filter((m) => m.userId === user.userId)
      .map((m) => m.deviceId);
    if (devices.length === 0)
      throw new SdkError("not-member", `${user.username} is not a member of this group`);
    await this.#changeMembers(chatId, [], devices);
  }

  /**
   * Commits adds and removes, retrying after catching up when another member committed first.
   * Added devices get the chat's metadata in a message right after.
   */
  async #changeMembers(groupId: string, add: string[], remove: string[]): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const outcome = await this.#mutex.run(async () => {
        // An earlier commit whose answer was lost goes first; a new one must not replace it.
        if (this.#pendingGroups.has(groupId) && !(await this.#settlePending(groupId))) {
          throw new SdkError("offline", "cannot reach the server to finish an earlier change; try again");
        }
        const pending = await this.#preparePendingCommit(groupId, add, remove);
        if (!pending) return { done: true as const };
        return this.#submitCommit(pending);
      });
      if ("done" in outcome) {
        await this.#emitChat(groupId);
        if (add.length > 0) await this.#sendMeta(groupId);
        return;
      }
      await this.#waitEpoch(groupId, outcome.staleEpoch);
    }
    throw new SdkError("conflict", "the group kept changing; try again");
  }

  async #preparePendingCommit(
    groupId: string,
    addIn: string[],
    removeIn: string[],
  ): Promise<PendingCommit | undefined> {
    const group = await this.#loadGroup(groupId);
    const members = groupMembers(group);
    const present = new Set(members.map((m) => m.deviceId));
    const add = addIn.filter((d) => !present.has(d));
    const removeIds = new Set(removeIn.filter((d) => present.has(d) && d !== this.deviceId));
    if (add.length === 0 && removeIds.size === 0) return undefined;
    let next = group;
    let commit: Uint8Array | undefined;
    let welcome: Uint8Array | undefined;
    if (removeIds.size > 0) {
      const r = await removeMembers(
        next,
        members.filter((m) => removeIds.has(m.deviceId)),
      );
      next = r.group;
      commit = r.commit;
    }
    let added: string[] = [];
    if (add.length > 0) {
      if (commit) {
        // One commit per submission: the removal goes first, the add follows in the next round.
        return this.#pendingFrom(groupId, group, next, commit, undefined, [], [...removeIds], false);
      }
      const { keyPackages } = await this.#request({ type: "kp.claim", deviceIds: add });
      if (keyPackages.length === 0) return undefined;
      const r = await addMembers(
        next,
        keyPackages.map((k) => k.keyPackage),
        this.#validate,
      );
      next = r.group;
      commit = r.commit;
      welcome = r.welcome;
      added = keyPackages.map((k) => k.deviceId);
    }
    return this.#pendingFrom(groupId, group, next, commit!, welcome, added, [...removeIds], added.length > 0);
  }

  async #pendingFrom(
    groupId: string,
    before: MlsGroup,
    after: MlsGroup,
    commit: Uint8Array,
    welcome: Uint8Array | undefined,
    add: string[],
    remove: string[],
    metaAfter: boolean,
  ): Promise<PendingCommit> {
    const pending: PendingCommit = {
      groupId,
      epoch: Number(groupEpoch(before)),
      commit: toBase64(commit),
      welcome: welcome ? toBase64(welcome) : null,
      add,
      remove,
      newState: toBase64(encodeGroup(after)),
      metaAfter,
    };
    // Saved before sending: if the answer is lost, the same commit is resent rather than a new one.
    await putJson(this.#storage, K.pending(groupId), pending);
    this.#pendingGroups.add(groupId);
    return pending;
  }

  /** Sends a pending commit; adopts its state when accepted, drops it when another commit won. */
  async #submitCommit(p: PendingCommit): Promise<{ done: true } | { staleEpoch: number }> {
    try {
      await this.#request({
        type: "group.commit",
        groupId: p.groupId,
        epoch: p.epoch,
        commit: p.commit,
        ...(p.welcome ? { welcome: p.welcome } : {}),
        add: p.add,
        remove: p.remove,
      });
    } catch (error) {
      if (error instanceof SdkError && error.code === "stale-epoch") {
        await this.#deletePending(p.groupId);
        return { staleEpoch: error.details.epoch ?? p.epoch + 1 };
      }
      throw error;
    }
    const before = await this.#storage.get(K.group(p.groupId));
    const after = fromBase64(p.newState)!;
    await this.#storage.put(K.group(p.groupId), after);
    await this.#deletePending(p.groupId);
    this.#notifyEpoch();
    if (before)
      await this.#noteDeviceChanges(
        p.groupId,
        groupMembers(decodeGroup(before)),
        groupMembers(decodeGroup(after)),
      );
    return { done: true };
  }

  /**
   * Resends a group's pending commit (call inside the mutex). Returns false if the server could not be
   * reached, in which case the commit stays pending.
   */
  async #settlePending(groupId: string): Promise<boolean> {
    const p = await getJson<PendingCommit>(this.#storage, K.pending(groupId));
    const group = p && (await this.#storage.get(K.group(groupId)));
    if (!p || !group || Number(groupEpoch(decodeGroup(group))) !== p.epoch) {
      await this.#deletePending(groupId);
      return true;
    }
    try {
      const r = await this.#submitCommit(p);
      if ("done" in r && p.metaAfter) this.#afterDrain(() => this.#sendMeta(groupId));
      return true;
    } catch (error) {
      if (error instanceof SdkError && (error.code === "offline" || error.code === "timeout")) return false;
      await this.#deletePending(groupId);
      return true;
    }
  }

  async #deletePending(groupId: string): Promise<void> {
    await this.#storage.delete(K.pending(groupId));
    this.#pendingGroups.delete(groupId);
  }

  async #flushPendingCommits(): Promise<void> {
    for (const groupId of [...this.#pendingGroups]) await this.#mutex.run(() => this.#settlePending(groupId));
  }

  /** Waits until this device has processed the group's commits up to `epoch`. */
  async #waitEpoch(groupId: string, epoch: number): Promise<void> {
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const bytes = await this.#storage.get(K.group(groupId));
      if (!bytes || Number(groupEpoch(decodeGroup(bytes))) >= epoch) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 1000);
        function done(): void {
          clearTimeout(t);
          resolve();
        }
        this.#epochWaiters.push(done);
      });
    }
    throw new SdkError("timeout", "timed out catching up with the group's latest changes");
  }

  #notifyEpoch(): void {
    for (const w of this.#epochWaiters.splice(0)) w();
  }

  async #loadGroup(groupId: string): Promise<MlsGroup> {
    const bytes = await this.#storage.get(K.group(groupId));
    if (!bytes) throw new SdkError("unknown-chat", "this device has no keys for that chat");
    return decodeGroup(bytes);
  }

  /** Adds members' new devices and removes revoked ones, as the server asked. */
  /**
   * Brings a group's devices in line with the directory: adds the active devices of users who are
   * already members (per MLS, not per the server) and removes members' devices that are no longer
   * active. The server's `group-outdated` lists only trigger this; they are never trusted as such, so
   * neither a lying member nor a malicious server can get a stranger's device added.
   */
  async #reconcile(groupId: string): Promise<void> {
    const members = groupMembers(await this.#loadGroup(groupId));
    const memberUsers = new Set(members.map((m) => m.userId));
    const { users } = await this.#request({ type: "dir.users", userIds: [...memberUsers] });
    this.#remember(users);
    const active = new Set(
      users.filter((u) => memberUsers.has(u.userId)).flatMap((u) => u.devices.map((d) => d.deviceId)),
    );
    const present = new Set(members.map((m) => m.deviceId));
    const add = [...active].filter((d) => !present.has(d));
    const remove = members.map((m) => m.deviceId).filter((d) => !active.has(d) && d !== this.deviceId);
    if (remove.length > 0) await this.#changeMembers(groupId, [], remove);
    if (add.length > 0) await this.#changeMembers(groupId, add, []);
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
    if (text.length > 16_000) throw new SdkError("too-large", "a message can have at most 16,000 characters");
    const chat = (await this.findChat(chatOrUsername)) ?? (await this.#directChatOrUnknown(chatOrUsername));
    return this.#sendUserMessage(chat.id, { kind: "text", text, ...(await this.#replyOf(chat.id, options)) });
  }

  /** Sends a sticker, e.g. `{ pack: "sori", id: "hello" }` from the built-in set. */
  async sendSticker(
    chatId: string,
    sticker: { pack: string; id: string },
    options: { replyTo?: string } = {},
  ): Promise<ChatMessage> {
    if (!/^[\w.-]{1,64}$/.test(sticker.pack) || !/^[\w.-]{1,64}$/.test(sticker.id)) {
      throw new SdkError(
        "bad-request",
        "a sticker needs a pack and an id of letters, digits, '_', '.' or '-'",
      );
    }
    await this.#requireChat(chatId);
    // A user-made pack's image travels with the sticker (as an encrypted blob), so everyone sees it.
    let fileRef: StoredMessage["fileRef"];
    if (sticker.pack !== BUILT_IN_PACK) {
      const pack = await this.#stickers.get(sticker.pack);
      const image = await this.#stickers.image(sticker.pack, sticker.id);
      const meta = pack?.stickers.find((s) => s.id === sticker.id);
      if (!pack || !image || !meta)
        throw new SdkError("not-found", "that sticker is not in a pack on this device");
      const { blob, key, hash } = await encryptAttachment(image);
      const blobId = await uploadBlob(this.serverUrl, this.#profile.token, blob);
      fileRef = { blobId, key, hash, name: `${sticker.id}`, mime: meta.mime, size: image.length };
    }
    return this.#sendUserMessage(chatId, {
      kind: "sticker",
      text: "",
      sticker,
      ...(fileRef ? { fileRef } : {}),
      ...(await this.#replyOf(chatId, options)),
    });
  }

  /** Sends again an outgoing message whose sending failed, under the same id. */
  async retry(chatId: string, messageId: string): Promise<ChatMessage> {
    const m = await this.#chats.getMessage(chatId, messageId);
    if (!m || !m.outgoing) throw new SdkError("not-found", "no such outgoing message on this device");
    if (m.status !== "failed") return m;
    if (m.kind === "file" && !m.fileRef) {
      // The upload failed: encrypt and upload again from the copy kept at sending.
      const bytes = await this.#storage.get(K.file(chatId, messageId));
      if (!bytes || !m.file)
        throw new SdkError("not-found", "the file is no longer on this device; send it again");
      const { blob, key, hash } = await encryptAttachment(bytes);
      const blobId = await uploadBlob(this.serverUrl, this.#profile.token, blob, (p) =>
        this.#emit("transfer", { chat: chatId, id: messageId, direction: "up", ...p }),
      );
      await this.#chats.updateMessage(chatId, messageId, { fileRef: { blobId, key, hash, ...m.file } });
    }
    return this.#deliverOutgoing(m);
  }

  /**
   * Stores the message as "sending" (and tells listeners at once), then sends it. On failure it stays
   * in history as "failed", ready for retry(), and the error is thrown.
   */
  async #sendUserMessage(
    chatId: string,
    body: Pick<StoredMessage, "kind" | "text"> & Partial<StoredMessage>,
  ): Promise<ChatMessage> {
    const id = newMessageId();
    // A message ends "typing" for its readers, so the next keystroke must announce typing again at once
    // rather than wait out the 3 s throttle of the one before.
    this.#typingSent.delete(chatId);
    // Written before the message, so a crash at any point leaves a trace that the next start resends.
    await this.#storage.put(K.outbox(chatId, id), new Uint8Array(0));
    const timer = (await this.#chats.getChat(chatId))?.timer ?? 0;
    const now = Date.now();
    const message = await this.#chats.append(
      {
        id,
        chat: chatId,
        from: this.username,
        fromUserId: this.userId,
        ...body,
        // The sender's copy starts its timer at once; the server's copies expire with it.
        ...(timer > 0 ? { expiresIn: timer, expiresAt: now + timer * 1000 } : {}),
        sentAt: now,
        outgoing: true,
        status: "sending",
      },
      { feed: false, unread: false },
    );
    this.#emit("message", message);
    if (message.expiresAt !== undefined) this.#scheduleExpiry(message.expiresAt);
    return this.#deliverOutgoing(message);
  }

  async #deliverOutgoing(m: ChatMessage): Promise<ChatMessage> {
    await this.#storage.put(K.outbox(m.chat, m.id), new Uint8Array(0));
    if (m.status !== "sending") await this.#setStatus(m.chat, m.id, "sending");
    const stored = (await this.#chats.getMessage(m.chat, m.id)) ?? m;
    const content = contentForMessage(stored);
    try {
      const sentAt = await this.#sendContent(m.chat, content, { expiresAt: m.expiresAt });
      const updated = await this.#chats.updateMessage(m.chat, m.id, { status: "sent", sentAt });
      await this.#storage.delete(K.outbox(m.chat, m.id));
      this.#emit("message-status", { chat: m.chat, id: m.id, status: "sent" });
      return { ...m, ...(updated ?? {}), status: "sent", sentAt };
    } catch (error) {
      await this.#setStatus(m.chat, m.id, "failed");
      // Failed for this run: the person decides whether to retry(), so the next start does not resend it.
      await this.#storage.delete(K.outbox(m.chat, m.id)).catch(() => undefined);
      throw error;
    }
  }

  async #setStatus(chat: string, id: string, status: MessageStatus): Promise<void> {
    await this.#chats.updateMessage(chat, id, { status });
    this.#emit("message-status", { chat, id, status });
  }

  async #directChatOrUnknown(target: string): Promise<ChatSummary> {
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

  async #sendMeta(groupId: string): Promise<void> {
    const rec = await this.#chats.getChat(groupId);
    if (!rec) return;
    await this.#sendContent(groupId, {
      v: 1,
      type: "meta",
      id: newMessageId(),
      kind: rec.kind,
      ...(rec.name ? { name: rec.name } : {}),
      sentAt: Date.now(),
    });
  }

  /**
   * Encrypts and sends; on stale-epoch catches up, on group-outdated fixes membership, then retries.
   * `expiresAt` (ms) lets the server drop undelivered copies when a disappearing message runs out;
   * `transient` (call signalling) skips the server's store-and-forward.
   */
  async #sendContent(
    groupId: string,
    content: Content,
    options: { transient?: boolean; expiresAt?: number } = {},
  ): Promise<number> {
    const expiresAt = options.expiresAt;
    const plaintext = encodeContent(content);
    // Kept across attempts: after a lost answer the very same ciphertext is resent under the same id,
    // which the server recognises; it is re-encrypted only when the epoch moved on.
    let prepared: { epoch: number; data: string } | undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const outcome = await this.#mutex.run(async () => {
        if (this.#pendingGroups.has(groupId) && !(await this.#settlePending(groupId))) {
          return {
            sentAt: undefined,
            error: new SdkError("offline", "an earlier change to this chat is not settled yet"),
          };
        }
        if (!prepared) {
          const group = await this.#loadGroup(groupId);
          const { group: next, message } = await encrypt(group, plaintext);
          // Saved before sending: reusing a ratchet generation for other bytes would break AES-GCM.
          await this.#storage.put(K.group(groupId), encodeGroup(next));
          prepared = { epoch: Number(groupEpoch(group)), data: toBase64(message) };
        }
        try {
          const blobs = blobIdsOf(content);
          const r = await this.#request({
            type: "send",
            groupId,
            messageId: content.id,
            ...prepared,
            ...(options.transient ? { transient: true } : {}),
            ...(expiresAt !== undefined ? { expiresAt } : {}),
            ...(blobs.length > 0 ? { blobs } : {}),
          });
          return { sentAt: r.sentAt, error: undefined };
        } catch (error) {
          if (!(error instanceof SdkError)) throw error;
          if (error.code === "stale-epoch" || error.code === "group-outdated") {
            prepared = undefined;
            return { sentAt: undefined, error };
          }
          if (error.code === "offline" || error.code === "timeout") return { sentAt: undefined, error };
          throw error;
        }
      });
      if (outcome.sentAt !== undefined) return outcome.sentAt;
      const { error } = outcome;
      if (error.code === "offline" || error.code === "timeout") {
        if (!this.#transport) throw error;
        await this.#transport.waitConnected(CATCH_UP_TIMEOUT_MS);
      } else if (error.code === "stale-epoch") {
        await this.#waitEpoch(groupId, error.details.epoch ?? 0);
      } else {
        await this.#reconcile(groupId);
      }
    }
    throw new SdkError("conflict", "could not send: the chat kept changing; try again");
  }

  /** Local history of a chat, oldest first: the `limit` newest messages before `before` (an order). */
  history(chatId: string, options: { limit?: number; before?: number } = {}): Promise<ChatMessage[]> {
    return this.#chats.history(chatId, options).then((list) => list.filter((m) => !isExpired(m)));
  }

  /** Messages from others that arrived since the last call, oldest first; each is returned once. */
  takeReceived(): Promise<ChatMessage[]> {
    return this.#chats.takeFeed().then((list) => list.filter((m) => !isExpired(m)));
  }

  /**
   * Marks every message of a chat as read (unread count 0): starts the disappearing timers of the
   * messages read, and tells the senders (unless read receipts are off in settings).
   */
  async markRead(chatId: string): Promise<void> {
    const rec = await this.#chats.getChat(chatId);
    if (!rec) return;
    if (rec.unread !== 0) {
      await this.#chats.updateChat(chatId, { unread: 0 });
      await this.#emitChat(chatId);
    }
    // Only the recent past can hold unread messages; a bounded look-back keeps this cheap.
    let newest = 0;
    const now = Date.now();
    for (const m of await this.#chats.history(chatId, { limit: 500 })) {
      if (m.outgoing || m.kind === "system") continue;
      newest = Math.max(newest, m.sentAt);
      if (m.expiresIn && m.expiresAt === undefined) {
        const expiresAt = now + m.expiresIn * 1000;
        await this.#chats.updateMessage(chatId, m.id, { expiresAt });
        this.#scheduleExpiry(expiresAt);
      }
    }
    if (newest > (rec.readUpTo ?? 0)) {
      await this.#chats.updateChat(chatId, { readUpTo: newest });
      if (rec.active && (await this.settings()).readReceipts) {
        // Not awaited: marking read must not wait on the network (close() still lets it finish,
        // since the send is queued on the mutex before close's turn).
        void this.#sendContent(chatId, { v: 1, type: "read", id: newMessageId(), upTo: newest }).catch(
          (e: unknown) =>
            this.#warn("read-receipt-failed", `could not send a read receipt: ${(e as Error).message}`),
        );
      }
    }
  }

  // --- sticker packs ----------------------------------------------------------------------------

  /** Sticker packs on this device (made here or added from chats); the built-in one is not listed. */
  stickerPacks(): Promise<StickerPack[]> {
    return this.#stickers.list();
  }

  /** The image of a sticker of an installed pack (undefined for the built-in pack and unknown ones). */
  stickerImage(packId: string, stickerId: string): Promise<Uint8Array | undefined> {
    return this.#stickers.image(packId, stickerId);
  }

  /** Makes a sticker pack on this device from images (≤ 512 KB each, 1–100). Share it with shareStickerPack. */
  async createStickerPack(name: string, images: { bytes: Uint8Array; mime: string }[]): Promise<StickerPack> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 64)
      throw new SdkError("bad-request", "a pack name needs 1 to 64 characters");
    checkStickerImages(images);
    const pack: StickerPack = {
      id: newMessageId(),
      name: trimmed,
      stickers: images.map((img, i) => ({ id: `s${i + 1}`, mime: img.mime })),
      own: true,
    };
    await this.#stickers.install(pack, new Map(images.map((img, i) => [`s${i + 1}`, img.bytes])));
    return pack;
  }

  /** Shares an installed pack in a chat: its images as encrypted blobs, its manifest in a message. */
  async shareStickerPack(chatId: string, packId: string): Promise<ChatMessage> {
    await this.#requireChat(chatId);
    const pack = await this.#stickers.get(packId);
    if (!pack) throw new SdkError("not-found", "no such sticker pack on this device");
    const stickers: NonNullable<StoredMessage["packManifest"]>["stickers"] = [];
    for (const s of pack.stickers) {
      const image = await this.#stickers.image(pack.id, s.id);
      if (!image) throw new SdkError("storage", "a sticker image of this pack is missing");
      const { blob, key, hash } = await encryptAttachment(image);
      const blobId = await uploadBlob(this.serverUrl, this.#profile.token, blob);
      stickers.push({ id: s.id, file: { blobId, key, hash, name: s.id, mime: s.mime, size: image.length } });
    }
    return this.#sendUserMessage(chatId, {
      kind: "sticker-pack",
      text: "",
      stickerPack: { id: pack.id, name: pack.name, count: pack.stickers.length },
      packManifest: { id: pack.id, name: pack.name, stickers },
    });
  }

  /** Adds a pack someone shared in a chat (the message of kind "sticker-pack"): downloads its images. */
  async addStickerPack(chatId: string, messageId: string): Promise<StickerPack> {
    const m = await this.#chats.getMessage(chatId, messageId);
    const manifest = m?.packManifest ?? (await this.#stickers.getOffer(chatId, messageId));
    if (!manifest) throw new SdkError("not-found", "no shared sticker pack in that message");
    const installed = await this.#stickers.get(manifest.id);
    if (installed) return installed;
    const images = new Map<string, Uint8Array>();
    for (const s of manifest.stickers) {
      const blob = await downloadBlob(this.serverUrl, this.#profile.token, s.file.blobId);
      images.set(s.id, await decryptAttachment(blob, s.file.key, s.file.hash));
    }
    for (const s of manifest.stickers) await this.#release(s.file.blobId);
    const pack: StickerPack = {
      id: manifest.id,
      name: manifest.name,
      stickers: manifest.stickers.map((s) => ({ id: s.id, mime: s.file.mime })),
      own: false,
    };
    await this.#stickers.install(pack, images);
    return pack;
  }

  /** The server may drop its copy of a blob this device now keeps itself (best effort: retention covers failures). */
  async #release(blobId: string): Promise<void> {
    await releaseBlob(this.serverUrl, this.#profile.token, blobId).catch(() => undefined);
  }

  /** Removes a sticker pack from this device. */
  removeStickerPack(packId: string): Promise<void> {
    return this.#stickers.remove(packId);
  }

  // --- safety numbers ---------------------------------------------------------------------------

  /**
   * The safety number with a contact: 60 digits (and a QR payload) over both users' device keys.
   * Compare it in person or by scanning; it changes whenever either side adds or loses a device.
   */
  async safetyNumber(
    username: string,
  ): Promise<SafetyNumber & { userId: string; username: string; verified: boolean }> {
    const [other] = await this.#lookupUsers([username]);
    if (!other) throw new SdkError("unknown-user", `no such user: ${username}`);
    if (other.userId === this.userId)
      throw new SdkError("bad-request", "a safety number is with someone else");
    const own = await this.#request({ type: "dir.users", userIds: [this.userId] });
    this.#remember(own.users);
    const keys = (u: (typeof own.users)[number] | undefined): Uint8Array[] =>
      (u?.devices ?? []).map((d) => d.signatureKey);
    const sn = await safetyNumberOf(
      { userId: this.userId, deviceKeys: keys(own.users[0]) },
      { userId: other.userId, deviceKeys: keys(other) },
    );
    const stored = await getJson<{ digits: string; verified: boolean }>(
      this.#storage,
      K.safety(other.userId),
    );
    return {
      ...sn,
      userId: other.userId,
      username: other.username,
      verified: stored?.verified === true && stored.digits === sn.digits,
    };
  }

  /** Marks the current safety number with a contact as verified (or not); a device change undoes it. */
  async setVerified(username: string, verified: boolean): Promise<void> {
    const sn = await this.safetyNumber(username);
    await putJson(this.#storage, K.safety(sn.userId), { digits: sn.digits, verified });
  }

  /** Compares a scanned QR payload with the safety number; marks the contact verified if they match. */
  async verifySafetyQr(username: string, payload: string): Promise<boolean> {
    const sn = await this.safetyNumber(username);
    if (payload.trim() !== sn.qr) return false;
    await putJson(this.#storage, K.safety(sn.userId), { digits: sn.digits, verified: true });
    return true;
  }

  /** Writes a warning into the chat for every other member whose set of devices changed. */
  async #noteDeviceChanges(chat: string, before: MemberIdentity[], after: MemberIdentity[]): Promise<void> {
    const devices = (list: MemberIdentity[], u: string): string =>
      list
        .filter((m) => m.userId === u)
        .map((m) => m.deviceId)
        .sort()
        .join();
    for (const u of new Set(before.map((m) => m.userId))) {
      if (u === this.userId || !after.some((m) => m.userId === u)) continue;
      if (devices(before, u) === devices(after, u)) continue;
      const username = await this.#usernameOf(u);
      const entry = await this.#chats.append(
        {
          id: newMessageId(),
          chat,
          from: username,
          fromUserId: u,
          kind: "system",
          text: "",
          system: { event: "devices-changed", userId: u, username },
          sentAt: Date.now(),
          outgoing: false,
          status: "delivered",
        },
        { feed: false, unread: false },
      );
      this.#emit("message", entry);
      const stored = await getJson<{ digits: string; verified: boolean }>(this.#storage, K.safety(u));
      if (stored?.verified) await putJson(this.#storage, K.safety(u), { ...stored, verified: false });
      this.#emit("safety", { userId: u, username });
    }
  }

  // --- attachments ------------------------------------------------------------------------------

  /**
   * Sends a file (image, voice message, anything up to the server's limit): encrypted here with a
   * fresh AES-256-GCM key, uploaded in resumable chunks (`transfer` events and `onProgress`), then
   * announced in an MLS message carrying the key and hash. The message shows as "sending" meanwhile.
   */
  async sendFile(
    chatOrUsername: string,
    file: FileInput,
    options: { caption?: string; replyTo?: string; onProgress?: (p: TransferProgress) => void } = {},
  ): Promise<ChatMessage> {
    const name = file.name.replace(/[\\/]/g, "_").slice(0, 255) || "file";
    if ((options.caption ?? "").length > 16_000)
      throw new SdkError("too-large", "a caption can have at most 16,000 characters");
    const thumbnail = file.thumbnail ? toBase64(file.thumbnail) : undefined;
    if (thumbnail && thumbnail.length > 20_000)
      throw new SdkError("too-large", "a thumbnail can be at most 15 KB");
    const chat = (await this.findChat(chatOrUsername)) ?? (await this.#directChatOrUnknown(chatOrUsername));
    await this.#requireChat(chat.id);
    const info = {
      name,
      mime: (file.mime ?? "application/octet-stream").slice(0, 100),
      size: file.bytes.length,
      ...(thumbnail ? { thumbnail } : {}),
      ...(file.width ? { width: Math.round(file.width) } : {}),
      ...(file.height ? { height: Math.round(file.height) } : {}),
      ...(file.durationS !== undefined ? { durationS: file.durationS } : {}),
      ...(file.voice ? { voice: true } : {}),
    };
    const timer = chat.timer;
    const now = Date.now();
    const message = await this.#chats.append(
      {
        id: newMessageId(),
        chat: chat.id,
        from: this.username,
        fromUserId: this.userId,
        kind: "file",
        text: options.caption ?? "",
        file: info,
        ...(await this.#replyOf(chat.id, options)),
        ...(timer > 0 ? { expiresIn: timer, expiresAt: now + timer * 1000 } : {}),
        sentAt: now,
        outgoing: true,
        status: "sending",
      },
      { feed: false, unread: false },
    );
    // The sender keeps the plaintext: the server's copy goes once the recipients have it.
    await this.#storage.put(K.file(chat.id, message.id), file.bytes);
    this.#emit("message", message);
    if (message.expiresAt !== undefined) this.#scheduleExpiry(message.expiresAt);
    try {
      const { blob, key, hash } = await encryptAttachment(file.bytes);
      const blobId = await uploadBlob(this.serverUrl, this.#profile.token, blob, (p) => {
        options.onProgress?.(p);
        this.#emit("transfer", { chat: chat.id, id: message.id, direction: "up", ...p });
      });
      await this.#chats.updateMessage(chat.id, message.id, { fileRef: { blobId, key, hash, ...info } });
    } catch (error) {
      await this.#setStatus(chat.id, message.id, "failed");
      throw error;
    }
    return this.#deliverOutgoing(message);
  }

  /**
   * The decrypted bytes of a file message: from this device's storage, or downloaded (resumable,
   * `transfer` events), checked against its hash, decrypted and kept for next time.
   */
  async downloadFile(
    chatId: string,
    messageId: string,
    options: { onProgress?: (p: TransferProgress) => void } = {},
  ): Promise<Uint8Array> {
    const cached = await this.#storage.get(K.file(chatId, messageId));
    if (cached) return cached;
    const m = await this.#chats.getMessage(chatId, messageId);
    if (!m || !m.fileRef || m.deleted || isExpired(m))
      throw new SdkError("not-found", "no such file message on this device");
    const blob = await downloadBlob(this.serverUrl, this.#profile.token, m.fileRef.blobId, (p) => {
      options.onProgress?.(p);
      this.#emit("transfer", { chat: chatId, id: messageId, direction: "down", ...p });
    });
    const bytes = await decryptAttachment(blob, m.fileRef.key, m.fileRef.hash);
    // Unless it disappeared or was deleted meanwhile.
    if (await this.#chats.getMessage(chatId, messageId))
      await this.#storage.put(K.file(chatId, messageId), bytes);
    await this.#release(m.fileRef.blobId);
    return bytes;
  }

  // --- message features -------------------------------------------------------------------------

  /** This device's privacy settings. */
  async settings(): Promise<ClientSettings> {
    return { ...DEFAULT_SETTINGS, ...(await getJson<Partial<ClientSettings>>(this.#storage, K.settings)) };
  }

  /** Changes settings: with read receipts or typing indicators off, they are not sent. */
  async setSettings(patch: Partial<ClientSettings>): Promise<ClientSettings> {
    const next = { ...(await this.settings()), ...patch };
    await putJson(this.#storage, K.settings, next);
    return next;
  }

  async #replyOf(
    chatId: string,
    options: { replyTo?: string },
  ): Promise<{ replyTo?: NonNullable<ChatMessage["replyTo"]> }> {
    if (!options.replyTo) return {};
    const target = await this.#chats.getMessage(chatId, options.replyTo);
    if (!target || target.deleted || target.kind === "system")
      throw new SdkError("not-found", "the message to reply to is not in this chat");
    return {
      replyTo: { id: target.id, from: target.from, fromUserId: target.fromUserId, text: snippetOf(target) },
    };
  }

  async #requireMessage(chatId: string, id: string): Promise<StoredMessage> {
    await this.#requireChat(chatId);
    const m = await this.#chats.getMessage(chatId, id);
    if (!m || m.kind === "system") throw new SdkError("not-found", "no such message in this chat");
    return m;
  }

  /** Toggles this user's reaction with `emoji` (any emoji) on a message; returns whether it is now on. */
  async react(chatId: string, messageId: string, emoji: string): Promise<boolean> {
    if (!isReactionEmoji(emoji)) throw new SdkError("bad-request", "a reaction is one emoji");
    const m = await this.#requireMessage(chatId, messageId);
    if (m.deleted) throw new SdkError("bad-request", "a deleted message cannot be reacted to");
    const on = !(m.reactions?.[emoji] ?? []).includes(this.userId);
    await this.#applyChange(chatId, this.userId, {
      v: 1,
      type: "reaction",
      id: newMessageId(),
      target: messageId,
      emoji,
      on,
    });
    return on;
  }

  /** Changes the text of one of this user's messages, for everyone; it shows as edited. */
  async editMessage(chatId: string, messageId: string, text: string): Promise<ChatMessage> {
    if (text.trim().length === 0) throw new SdkError("bad-request", "cannot edit a message to nothing");
    if (text.length > 16_000) throw new SdkError("too-large", "a message can have at most 16,000 characters");
    const m = await this.#requireMessage(chatId, messageId);
    if (!m.outgoing || m.deleted || (m.kind !== "text" && m.kind !== "file"))
      throw new SdkError("bad-request", "only your own text messages can be edited");
    return this.#applyChange(chatId, this.userId, {
      v: 1,
      type: "edit",
      id: newMessageId(),
      target: messageId,
      text,
    });
  }

  /** Deletes one of this user's messages on every device of every member ("message deleted"). */
  async deleteForEveryone(chatId: string, messageId: string): Promise<ChatMessage> {
    const m = await this.#requireMessage(chatId, messageId);
    if (!m.outgoing) throw new SdkError("bad-request", "only your own messages can be deleted for everyone");
    if (m.deleted) return publicView(m);
    return this.#applyChange(chatId, this.userId, {
      v: 1,
      type: "delete",
      id: newMessageId(),
      target: messageId,
    });
  }

  /** Removes a message from this device only. */
  async deleteLocally(chatId: string, messageId: string): Promise<void> {
    await this.#storage.delete(K.file(chatId, messageId));
    if (await this.#chats.removeMessage(chatId, messageId)) {
      this.#emit("message-removed", { chat: chatId, id: messageId });
      void this.#emitChat(chatId);
    }
  }

  /** Forwards a message (text, sticker or file) to another chat, marked as forwarded. */
  async forward(fromChatId: string, messageId: string, toChatOrUsername: string): Promise<ChatMessage> {
    const m = await this.#requireMessage(fromChatId, messageId);
    if (m.deleted) throw new SdkError("bad-request", "a deleted message cannot be forwarded");
    const to = (await this.findChat(toChatOrUsername)) ?? (await this.#directChatOrUnknown(toChatOrUsername));
    await this.#requireChat(to.id);
    return this.#sendUserMessage(to.id, {
      kind: m.kind,
      text: m.text,
      forwarded: true,
      ...(m.sticker ? { sticker: m.sticker } : {}),
      ...(m.file ? { file: m.file } : {}),
      ...(m.fileRef ? { fileRef: m.fileRef } : {}),
      ...(m.packManifest && m.stickerPack
        ? { packManifest: m.packManifest, stickerPack: m.stickerPack }
        : {}),
    });
  }

  /**
   * Tells the chat this user is typing (`true`) or stopped (`false`). Does nothing when typing
   * indicators are off in settings; repeated `true` calls are sent at most every 3 seconds.
   */
  async setTyping(chatId: string, typing: boolean): Promise<void> {
    if (!(await this.settings()).typingIndicators) return;
    await this.#requireChat(chatId);
    const last = this.#typingSent.get(chatId);
    if (typing && last !== undefined && Date.now() - last < 3000) return;
    if (!typing && last === undefined) return;
    if (typing) this.#typingSent.set(chatId, Date.now());
    else this.#typingSent.delete(chatId);
    await this.#sendContent(chatId, { v: 1, type: "typing", id: newMessageId(), on: typing });
  }

  /** Searches this device's local history (the server cannot: it holds only ciphertext). Newest first. */
  search(query: string, options: { chat?: string; limit?: number } = {}): Promise<ChatMessage[]> {
    return this.#chats.search(query, options).then((list) => list.filter((m) => !isExpired(m)));
  }

  /**
   * Sets the chat's disappearing-message timer in seconds (0 = off, at most a week; apps offer
   * TIMER_CHOICES) for every member; the change is announced in the chat.
   */
  async setTimer(chatId: string, seconds: number): Promise<void> {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_TIMER_SECONDS)
      throw new SdkError("bad-request", `the timer is 0 (off) to ${MAX_TIMER_SECONDS} seconds`);
    await this.#requireChat(chatId);
    const id = newMessageId();
    await this.#sendContent(chatId, { v: 1, type: "timer", id, seconds, sentAt: Date.now() });
    await this.#mutex.run(() => this.#applyTimer(chatId, this.userId, seconds, id, Date.now()));
  }

  async #applyTimer(chat: string, by: string, seconds: number, id: string, sentAt: number): Promise<void> {
    const rec = await this.#chats.updateChat(chat, { timer: seconds });
    if (!rec) return;
    const username = await this.#usernameOf(by);
    const entry = await this.#chats.append(
      {
        id,
        chat,
        from: username,
        fromUserId: by,
        kind: "system",
        text: "",
        system: { event: "timer", seconds, by: username },
        sentAt,
        outgoing: by === this.userId,
        status: "delivered",
      },
      { feed: false, unread: false },
    );
    this.#emit("message", entry);
    await this.#emitChat(chat);
  }

  /** Applies a reaction, edit or deletion locally, then sends it. */
  async #applyChange(
    chatId: string,
    userId: string,
    content: Extract<Content, { type: "reaction" | "edit" | "delete" }>,
  ): Promise<ChatMessage> {
    const updated = await this.#mutex.run(() => this.#onChange(chatId, userId, content));
    await this.#sendContent(chatId, content);
    if (!updated) throw new SdkError("not-found", "no such message in this chat");
    return updated;
  }

  async #onChange(
    chat: string,
    senderId: string,
    content: Extract<Content, { type: "reaction" | "edit" | "delete" }>,
  ): Promise<ChatMessage | undefined> {
    const m = await this.#chats.getMessage(chat, content.target);
    if (!m || m.kind === "system") return undefined;
    const patch = changePatch(m, senderId, content);
    if (patch === "forged") {
      this.#warn("forged-change", "ignored an edit or deletion of someone else's message");
      return undefined;
    }
    if (!patch) return undefined;
    if (content.type === "delete") await this.#storage.delete(K.file(chat, m.id));
    const next = await this.#chats.updateMessage(chat, m.id, patch);
    if (!next) return undefined;
    const view = publicView(next);
    this.#emit("message-updated", view);
    void this.#emitChat(chat);
    return view;
  }

  /** A member read up to `upTo`: our messages up to then are read once every other member has. */
  async #onRead(chat: string, readerId: string, upTo: number): Promise<void> {
    const others = await this.#otherMemberIds(chat);
    for (const m of await this.#chats.history(chat, { limit: 500 })) {
      if (!m.outgoing || m.sentAt > upTo || m.read || m.kind === "system") continue;
      const stored = await this.#chats.getMessage(chat, m.id);
      if (!stored) continue;
      const readBy = [...new Set([...(stored.readBy ?? []), readerId])];
      const all = [...others].every((u) => readBy.includes(u));
      // Reading implies delivery (a receipt may be switched off or still on its way).
      const next = await this.#chats.updateMessage(chat, m.id, {
        readBy,
        ...(all ? { read: true, status: "delivered" as const } : {}),
      });
      if (all && next) {
        if (m.status !== "delivered") this.#emit("message-status", { chat, id: m.id, status: "delivered" });
        this.#emit("message-updated", publicView(next));
      }
    }
  }

  async #otherMemberIds(chat: string): Promise<Set<string>> {
    const groupBytes = await this.#storage.get(K.group(chat));
    return groupBytes
      ? new Set(
          groupMembers(decodeGroup(groupBytes))
            .map((x) => x.userId)
            .filter((u) => u !== this.userId),
        )
      : new Set<string>();
  }

  /** Deletes messages whose disappearing timer ran out, then waits for the next one. */
  async #sweepExpired(): Promise<void> {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    const gone = await this.#chats.expired(Date.now());
    const chats = new Set<string>();
    for (const { chat, id } of gone) {
      await this.#storage.delete(K.file(chat, id));
      if (await this.#chats.removeMessage(chat, id)) {
        this.#emit("message-removed", { chat, id });
        chats.add(chat);
      }
    }
    for (const chat of chats) await this.#emitChat(chat);
    const next = await this.#chats.nextExpiry();
    if (next !== undefined) this.#scheduleExpiry(next);
  }

  #scheduleExpiry(at: number): void {
    if (this.#closed) return;
    if (this.#expiryTimer && this.#nextSweepAt <= at) return;
    clearTimeout(this.#expiryTimer);
    this.#nextSweepAt = at;
    // Long timers are re-armed in steps: setTimeout cannot wait more than ~24 days.
    const delay = Math.min(Math.max(0, at - Date.now()) + 20, 3_600_000);
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined;
      this.#sweepExpired().catch((e: unknown) =>
        this.#warn("expiry-failed", `could not delete expired messages: ${(e as Error).message}`),
      );
    }, delay);
  }

  // --- profiles ---------------------------------------------------------------------------------

  /** Sets this user's display name and avatar and shares them, encrypted, with every chat. */
  async setProfile(profile: { displayName?: string | null; avatar?: Uint8Array | null }): Promise<void> {
    const current = (await this.#chats.getProfile(this.userId)) ?? { displayName: null, avatar: null };
    const displayName =
      profile.displayName === undefined ? current.displayName : profile.displayName?.trim() || null;
    if (displayName && displayName.length > 64)
      throw new SdkError("bad-request", "a display name has at most 64 characters");
    let avatar = current.avatar;
    if (profile.avatar !== undefined) {
      if (profile.avatar && profile.avatar.length > MAX_AVATAR_BYTES) {
        throw new SdkError(
          "too-large",
          `an avatar can be at most ${Math.floor(MAX_AVATAR_BYTES / 1000)} KB`,
          { limit: MAX_AVATAR_BYTES },
        );
      }
      avatar = profile.avatar ? toBase64(profile.avatar) : null;
    }
    await this.#chats.putProfile(this.userId, { displayName, avatar });
    this.#emit("profile", { userId: this.userId });
    for (const c of await this.#chats.listChats()) if (c.active) await this.#sendOwnProfile(c.id);
  }

  /** A user's display name and avatar as last shared with this device. */
  async profile(userId: string): Promise<{ displayName: string | null; avatar: Uint8Array | null }> {
    const p = await this.#chats.getProfile(userId);
    return { displayName: p?.displayName ?? null, avatar: p?.avatar ? (fromBase64(p.avatar) ?? null) : null };
  }

  async #sendOwnProfile(groupId: string): Promise<void> {
    const p = await this.#chats.getProfile(this.userId);
    if (!p || (!p.displayName && !p.avatar)) return;
    await this.#sendContent(groupId, {
      v: 1,
      type: "profile",
      id: newMessageId(),
      displayName: p.displayName,
      avatar: p.avatar,
    });
  }

  /** Looks a user up by exact username (case-insensitive). */
  async findUser(username: string): Promise<{ userId: string; username: string } | undefined> {
    const { users } = await this.#request({ type: "dir.users", usernames: [username] });
    this.#remember(users);
    const u = users[0];
    return u ? { userId: u.userId, username: u.username } : undefined;
  }

  // --- incoming ---------------------------------------------------------------------------------

  /**
   * Acknowledges processed deliveries. Servers of feature level 3 take an ack without an answer (a
   * frame less per delivery); older ones get a request. Never throws: unacknowledged entries come
   * again after reconnecting, and duplicates are dropped.
   */
  async #ack(upTo: number): Promise<void> {
    if (this.#serverFeatureLevel >= UNANSWERED_ACK_LEVEL && this.#transport?.sendUnansweredAck(upTo)) return;
    await this.#request({ type: "ack", upTo }).catch(() => undefined);
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = (async () => {
      let lastSeq = 0;
      while (this.#inbox.length > 0) {
        const d = this.#inbox[0]!;
        // Redelivered after a reconnect but already processed here.
        if (d.seq > this.#processedUpTo) {
          try {
            await this.#mutex.run(() => this.#process(d));
          } catch (error) {
            // Transient (storage, network): keep it, acknowledge nothing more, and try again shortly.
            const code = error instanceof CryptoError || error instanceof SdkError ? error.code : "internal";
            this.#warn(`${d.kind}-delayed`, `could not process a ${d.kind} yet (${code}); retrying`);
            this.#retryDrainLater();
            break;
          }
          this.#processedUpTo = d.seq;
        }
        this.#inbox.shift();
        lastSeq = Math.max(lastSeq, d.seq);
        if (this.#inbox.length === 0 || this.#inbox.length % 64 === 0) {
          await this.#ack(lastSeq);
        }
      }
      if (lastSeq > 0 && this.#inbox.length > 0) {
        await this.#ack(lastSeq);
      }
    })().finally(() => {
      this.#draining = undefined;
      this.#checkSynced();
      if (this.#receipts.size > 0) this.#afterDrain(() => this.#flushReceipts());
      if (this.#inbox.length > 0 && !this.#drainRetry) this.#drain();
    });
  }

  #retryDrainLater(): void {
    if (this.#drainRetry) return;
    this.#drainRetry = setTimeout(() => {
      this.#drainRetry = undefined;
      this.#drain();
    }, DRAIN_RETRY_MS);
  }

  /**
   * Processes one delivery. Permanent problems (bad or undecryptable MLS data) are reported and the
   * delivery is dropped; transient ones (storage, network, an unsettled commit) are thrown so the
   * delivery stays unacknowledged and is retried.
   */
  async #process(d: Delivery): Promise<void> {
    try {
      // A commit whose answer was lost must be settled first: later deliveries may build on it.
      if (d.groupId && this.#pendingGroups.has(d.groupId) && !(await this.#settlePending(d.groupId))) {
        throw new SdkError("offline", "an earlier change to this chat is not settled yet");
      }
      switch (d.kind) {
        case "welcome":
          await this.#onWelcome(d);
          break;
        case "commit":
          await this.#onCommit(d);
          break;
        case "message":
          await this.#onMessage(d);
          break;
        case "device-added":
          if (d.from.userId === this.userId) this.#afterDrain(() => this.#addOwnDevice());
          break;
      }
    } catch (error) {
      if (isTransient(error)) throw error;
      const code = error instanceof CryptoError || error instanceof SdkError ? error.code : "internal";
      this.#warn(`${d.kind}-failed`, `could not process a ${d.kind} (${code})`);
    }
  }

  #afterDrain(task: () => Promise<void>): void {
    setTimeout(() => {
      task().catch((e: unknown) =>
        this.#warn("reconcile-failed", `could not update a chat's devices: ${(e as Error).message}`),
      );
    }, 0);
  }

  /** A new device of this user logged in: add it to every chat. */
  async #addOwnDevice(): Promise<void> {
    for (const c of await this.chats()) {
      if (c.active) await this.#reconcile(c.id);
    }
  }

  async #onWelcome(d: Delivery): Promise<void> {
    if (!d.groupId || !d.data) return;
    if (await this.#storage.get(K.group(d.groupId))) return;
    const bundles: KeyPackageBundle[] = [];
    for (const key of await this.#storage.list("kp/")) {
      const b = await this.#storage.get(key);
      if (b) bundles.push(decodeKeyPackageBundle(b));
    }
    const { group, usedKeyPackageRef } = await joinFromWelcome(d.data, bundles, this.#keys, this.#validate);
    if (toBase64Url(groupIdOf(group)) !== d.groupId) {
      throw new CryptoError(
        "wrong-group",
        "a Welcome's group id does not match the chat it was delivered for",
      );
    }
    const used = bundles.find((b) => b.ref === usedKeyPackageRef);
    if (used && !used.lastResort) await this.#storage.delete(K.kp(used.ref));
    await this.#storage.put(K.group(d.groupId), encodeGroup(group));
    const existing = await this.#chats.getChat(d.groupId);
    await this.#chats.putChat({
      id: d.groupId,
      kind: existing?.kind ?? "group",
      name: existing?.name ?? null,
      createdAt: existing?.createdAt ?? d.sentAt,
      lastMessageAt: d.sentAt,
      lastMessage: existing?.lastMessage ?? null,
      unread: existing?.unread ?? 0,
      active: true,
    });
    this.#notifyEpoch();
    const groupId = d.groupId;
    this.#afterDrain(() => this.#sendOwnProfile(groupId));
  }

  async #onCommit(d: Delivery): Promise<void> {
    if (!d.groupId || !d.data) return;
    const bytes = await this.#storage.get(K.group(d.groupId));
    if (!bytes) return;
    const group = decodeGroup(bytes);
    // Already applied (a redelivery after reconnect): the commit was made from an older epoch.
    if (d.epoch !== undefined && d.epoch < Number(groupEpoch(group))) return;
    const r = await processMessage(group, d.data, this.#validate);
    if (r.kind !== "commit") return;
    if (r.selfRemoved) {
      await this.#deactivate(d.groupId);
    } else {
      await this.#storage.put(K.group(d.groupId), encodeGroup(r.group));
      await this.#noteDeviceChanges(d.groupId, groupMembers(group), groupMembers(r.group));
      for (const m of r.added) if (!this.#usernames.has(m.userId)) void this.#usernameOf(m.userId);
      if (r.added.length > 0 || r.removed.length > 0) void this.#emitChat(d.groupId);
    }
    this.#notifyEpoch();
  }

  async #onMessage(d: Delivery): Promise<void> {
    if (!d.groupId || !d.data) return;
    if (await this.#storage.get(K.seen(d.messageId))) return;
    const bytes = await this.#storage.get(K.group(d.groupId));
    // Not (or no longer) a member: nothing here can decrypt it.
    if (!bytes) return;
    const group = decodeGroup(bytes);
    const r = await processMessage(group, d.data, this.#validate);
    if (r.kind !== "application") return;
    // The server's claim about the sender must match the MLS-authenticated one.
    const content = identityKey(r.sender) === identityKey(d.from) ? decodeContent(r.plaintext) : undefined;
    if (identityKey(r.sender) !== identityKey(d.from)) {
      this.#warn("sender-mismatch", "dropped a message whose sender did not match its signature");
    }
    // Content first (its writes are idempotent), then the advanced group state, then "seen": a crash
    // in between leads to a redelivery that either decrypts again or is recognised, never to a loss.
    if (content && content.id === d.messageId)
      await this.#onContent(d.groupId, r.sender.userId, d.sentAt, content, r.sender.deviceId);
    await this.#storage.put(K.group(d.groupId), encodeGroup(r.group));
    await this.#storage.put(K.seen(d.messageId), new Uint8Array(0));
  }

  async #onContent(
    chat: string,
    senderId: string,
    sentAt: number,
    content: Content,
    senderDevice?: string,
  ): Promise<void> {
    const mine = senderId === this.userId;
    switch (content.type) {
      case "meta": {
        const rec = await this.#chats.getChat(chat);
        if (rec) {
          await this.#chats.putChat({ ...rec, kind: content.kind, name: content.name ?? rec.name });
          await this.#emitChat(chat);
        }
        return;
      }
      case "receipt":
        if (!mine) for (const id of content.ids) await this.#onReceipt(chat, id, senderId);
        return;
      case "profile":
        await this.#chats.putProfile(senderId, { displayName: content.displayName, avatar: content.avatar });
        this.#emit("profile", { userId: senderId });
        return;
      case "leave":
        if (mine) {
          // This user left from another device.
          await this.#deactivate(chat);
        } else {
          this.#afterDrain(() => this.#removeUser(chat, senderId));
        }
        return;
      case "call":
        // Normally transient (see #onRelay); one that came the durable way is handled the same.
        this.#afterDrain(async () =>
          this.#calls.handleSignal(
            chat,
            { userId: senderId, deviceId: senderDevice ?? "" },
            content.callId,
            content.signal,
            sentAt,
          ),
        );
        return;
      case "call-log":
        await this.#appendCallLog(chat, senderId, sentAt, content);
        return;
      case "text":
      case "sticker":
      case "file": {
        const replyTo = content.replyTo && {
          ...content.replyTo,
          from: await this.#usernameOf(content.replyTo.fromUserId),
        };
        const message = await this.#chats.append(
          {
            id: content.id,
            chat,
            from: await this.#usernameOf(senderId),
            fromUserId: senderId,
            kind: content.type,
            text: content.type === "sticker" ? "" : (content.text ?? ""),
            ...(content.type === "sticker" ? { sticker: { pack: content.pack, id: content.sticker } } : {}),
            ...(content.type === "file" ? { file: fileInfoOf(content.file), fileRef: content.file } : {}),
            ...(content.type === "sticker" && content.file ? { fileRef: content.file } : {}),
            ...(replyTo ? { replyTo } : {}),
            ...(content.forwarded ? { forwarded: true } : {}),
            // The sender's own other devices count it as read at once; others start the timer on reading.
            ...(content.expiresIn
              ? {
                  expiresIn: content.expiresIn,
                  ...(mine ? { expiresAt: sentAt + content.expiresIn * 1000 } : {}),
                }
              : {}),
            sentAt,
            outgoing: mine,
            status: mine ? "sent" : "delivered",
          },
          { feed: !mine, unread: !mine },
        );
        if (!mine) this.#queueReceipt(chat, content.id);
        this.#emit("message", message);
        if (message.expiresAt !== undefined) this.#scheduleExpiry(message.expiresAt);
        void this.#emitChat(chat);
        return;
      }
      case "reaction":
      case "edit":
      case "delete":
        await this.#onChange(chat, senderId, content);
        return;
      case "read":
        if (!mine) await this.#onRead(chat, senderId, content.upTo);
        return;
      case "typing":
        if (!mine && Date.now() - sentAt < TYPING_FRESH_MS)
          this.#emit("typing", {
            chat,
            userId: senderId,
            username: await this.#usernameOf(senderId),
            typing: content.on,
          });
        return;
      case "timer":
        await this.#applyTimer(chat, senderId, content.seconds, content.id, sentAt);
        return;
      case "sticker-pack": {
        await this.#stickers.putOffer(chat, content.id, content.pack);
        const message = await this.#chats.append(
          {
            id: content.id,
            chat,
            from: await this.#usernameOf(senderId),
            fromUserId: senderId,
            kind: "sticker-pack",
            text: "",
            stickerPack: {
              id: content.pack.id,
              name: content.pack.name,
              count: content.pack.stickers.length,
            },
            packManifest: content.pack,
            sentAt,
            outgoing: mine,
            status: mine ? "sent" : "delivered",
          },
          { feed: false, unread: !mine },
        );
        this.#emit("message", message);
        void this.#emitChat(chat);
        return;
      }
    }
  }

  #queueReceipt(chat: string, id: string): void {
    const ids = this.#receipts.get(chat) ?? new Set<string>();
    ids.add(id);
    this.#receipts.set(chat, ids);
  }

  /** Sends the receipts gathered while processing a batch of deliveries, one message per chat. */
  async #flushReceipts(): Promise<void> {
    const batches = [...this.#receipts];
    this.#receipts.clear();
    for (const [chat, ids] of batches) {
      const list = [...ids];
      for (let i = 0; i < list.length; i += 500) {
        await this.#sendContent(chat, {
          v: 1,
          type: "receipt",
          id: newMessageId(),
          ids: list.slice(i, i + 500),
        });
      }
    }
  }

  /** Another member's device confirmed one of our messages: delivered once every other member has. */
  async #onReceipt(chat: string, id: string, fromUserId: string): Promise<void> {
    const m = await this.#chats.getMessage(chat, id);
    if (!m || !m.outgoing || m.status === "delivered") return;
    const deliveredTo = [...new Set([...(m.deliveredTo ?? []), fromUserId])];
    const groupBytes = await this.#storage.get(K.group(chat));
    const others = groupBytes
      ? new Set(
          groupMembers(decodeGroup(groupBytes))
            .map((x) => x.userId)
            .filter((u) => u !== this.userId),
        )
      : new Set<string>();
    const all = [...others].every((u) => deliveredTo.includes(u));
    await this.#chats.updateMessage(chat, id, {
      deliveredTo,
      ...(all ? { status: "delivered" as const } : {}),
    });
    if (all) this.#emit("message-status", { chat, id, status: "delivered" });
  }

  /** This device is no longer in the chat (removed, or its user left): keep history, drop keys. */
  async #deactivate(chat: string): Promise<void> {
    await this.#storage.delete(K.group(chat));
    await this.#chats.updateChat(chat, { active: false });
    await this.#emitChat(chat);
  }

  /** Commits the removal of every device of a user who left. */
  async #removeUser(chat: string, userId: string): Promise<void> {
    const bytes = await this.#storage.get(K.group(chat));
    if (!bytes) return;
    const devices = groupMembers(decodeGroup(bytes))
      .filter((m) => m.userId === userId)
      .map((m) => m.deviceId);
    if (devices.length > 0) await this.#changeMembers(chat, [], devices);
  }

  /** Renames a group for everyone in it. */
  async renameGroup(chatId: string, name: string): Promise<void> {
    const rec = await this.#requireChat(chatId);
    if (rec.kind !== "group") throw new SdkError("bad-request", "only groups have a name");
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 100)
      throw new SdkError("bad-request", "a group name needs 1 to 100 characters");
    await this.#chats.updateChat(chatId, { name: trimmed });
    await this.#sendMeta(chatId);
    await this.#emitChat(chatId);
  }

  /** Leaves a group: the others' devices remove this user's devices; history stays on this device. */
  async leaveGroup(chatId: string): Promise<void> {
    const rec = await this.#requireChat(chatId);
    if (rec.kind !== "group") throw new SdkError("bad-request", "you can only leave groups");
    await this.#sendContent(chatId, { v: 1, type: "leave", id: newMessageId() });
    await this.#mutex.run(() => this.#deactivate(chatId));
  }

  // --- calls (issue 4): everything else lives in ./calls/ ----------------------------------------

  /** 1:1 voice and video calls (see docs/SDK.md "Calls"). */
  get calls(): CallManager {
    return this.#calls;
  }

  #createCallManager(): CallManager {
    return new CallManager({
      userId: this.#profile.userId,
      deviceId: this.#profile.deviceId,
      sendSignal: async (chatId, callId, signal: CallSignal) => {
        await this.#sendContent(
          chatId,
          { v: 1, type: "call", id: newMessageId(), callId, signal, sentAt: Date.now() },
          { transient: true },
        );
      },
      sendCallLog: async (chatId, log: CallLogBody) => {
        const content = { v: 1 as const, type: "call-log" as const, id: newMessageId(), ...log };
        await this.#appendCallLog(chatId, this.userId, Date.now(), content);
        await this.#sendContent(chatId, content);
      },
      directChat: async (target) => {
        const chat = (await this.findChat(target)) ?? (await this.#directChatOrUnknown(target));
        const peer = chat.kind === "direct" ? await this.#directPeer(chat.id) : undefined;
        if (!peer) throw new SdkError("bad-request", "calls are 1:1: pick a direct chat or a username");
        await this.#requireChat(chat.id);
        return { chatId: chat.id, peer };
      },
      directPeer: (chatId) => this.#directPeer(chatId),
      turnCredentials: async () => {
        const r = await this.#request({ type: "turn.credentials" });
        return { iceServers: r.iceServers, ttlS: r.ttlS };
      },
      warn: (code, message) => this.#warn(code, message),
    });
  }

  async #directPeer(chatId: string): Promise<{ userId: string; username: string } | undefined> {
    const rec = await this.#chats.getChat(chatId);
    const bytes = rec?.active && rec.kind === "direct" ? await this.#storage.get(K.group(chatId)) : undefined;
    if (!bytes) return undefined;
    const others = [...new Set(groupMembers(decodeGroup(bytes)).map((m) => m.userId))].filter(
      (u) => u !== this.userId,
    );
    if (others.length !== 1) return undefined;
    return { userId: others[0]!, username: await this.#usernameOf(others[0]!) };
  }

  /** A transient message: decrypted like any message, but only call signals are accepted this way. */
  async #onRelay(r: Relay): Promise<void> {
    let signal: { sender: MemberIdentity; content: Content | undefined } | undefined;
    try {
      // A relay can overtake the commit that moved the group to its epoch (that comes through the
      // queue): wait, bounded, until this device has caught up.
      const before = await this.#storage.get(K.group(r.groupId));
      if (before && Number(groupEpoch(decodeGroup(before))) < r.epoch)
        await this.#waitEpoch(r.groupId, r.epoch);
      signal = await this.#mutex.run(async () => {
        const bytes = await this.#storage.get(K.group(r.groupId));
        if (!bytes) return undefined;
        const out = await processMessage(decodeGroup(bytes), r.data, this.#validate);
        if (out.kind !== "application") return undefined;
        await this.#storage.put(K.group(r.groupId), encodeGroup(out.group));
        if (identityKey(out.sender) !== identityKey(r.from)) {
          this.#warn("sender-mismatch", "dropped a call signal whose sender did not match its signature");
          return undefined;
        }
        return { sender: out.sender, content: decodeContent(out.plaintext) };
      });
    } catch (error) {
      const code = error instanceof CryptoError || error instanceof SdkError ? error.code : "internal";
      this.#warn("call-signal-invalid", `could not decrypt a call signal (${code})`);
      return;
    }
    if (!signal) return;
    const { sender, content } = signal;
    if (!content || content.type !== "call" || content.id !== r.messageId) {
      this.#warn("call-signal-invalid", "ignored a transient message that is not a valid call signal");
      return;
    }
    this.#calls.handleSignal(r.groupId, sender, content.callId, content.signal, r.sentAt);
  }

  /** Stores a call in the chat's history (outgoing for this user's calls, incoming otherwise). */
  async #appendCallLog(
    chat: string,
    callerId: string,
    sentAt: number,
    log: CallLogBody & { id: string },
  ): Promise<void> {
    const outgoing = callerId === this.userId;
    // Declined here (or on another device of this user) is a choice, not a missed call.
    const missed = !outgoing && log.outcome !== "answered" && log.outcome !== "declined";
    const message = await this.#chats.append(
      {
        id: log.id,
        chat,
        from: await this.#usernameOf(callerId),
        fromUserId: callerId,
        kind: "call",
        text: "",
        call: {
          callId: log.callId,
          media: log.media,
          direction: outgoing ? "outgoing" : "incoming",
          outcome: log.outcome,
          missed,
          durationS: log.durationS,
        },
        sentAt,
        outgoing,
        status: outgoing ? "sent" : "delivered",
      },
      { feed: !outgoing, unread: missed },
    );
    this.#emit("message", message);
    void this.#emitChat(chat);
  }

  // --- devices ----------------------------------------------------------------------------------

  /** This account's active devices. */
  async devices(): Promise<ReturnType<typeof listDevices> extends Promise<infer R> ? R : never> {
    return listDevices(this.serverUrl, this.#profile.token);
  }

  /** Revokes another device of this account; chats drop it the next time anyone sends. */
  async revokeDevice(deviceId: string): Promise<void> {
    await revokeDevice(this.serverUrl, this.#profile.token, deviceId);
  }

  /** Revokes this device on the server and forgets everything stored locally. */
  async logout(): Promise<void> {
    await this.close();
    await logout(this.serverUrl, this.#profile.token);
    for (const key of await this.#storage.list("")) await this.#storage.delete(key);
  }
}

/** Attachments a content refers to: the server keeps them until every recipient fetched them. */
function blobIdsOf(content: Content): string[] {
  if (content.type === "file") return [content.file.blobId];
  if (content.type === "sticker-pack") return content.pack.stickers.map((s) => s.file.blobId);
  if (content.type === "sticker" && content.file) return [content.file.blobId];
  return [];
}

/** `sori-link:CODE:SERVER-URL` → its parts. */
function parseLinkQr(qr: string): { code: string; serverUrl: string } | undefined {
  const m = qr.trim().match(/^sori-link:([A-Za-z0-9-]{4,64}):(https?:\/\/\S+)$/);
  return m ? { code: m[1]!, serverUrl: m[2]! } : undefined;
}

function isExpired(m: ChatMessage): boolean {
  return m.expiresAt !== undefined && m.expiresAt <= Date.now();
}

function fileInfoOf(f: Extract<Content, { type: "file" }>["file"]): NonNullable<ChatMessage["file"]> {
  return {
    name: f.name,
    mime: f.mime,
    size: f.size,
    ...(f.thumbnail ? { thumbnail: f.thumbnail } : {}),
    ...(f.width ? { width: f.width } : {}),
    ...(f.height ? { height: f.height } : {}),
    ...(f.durationS !== undefined ? { durationS: f.durationS } : {}),
    ...(f.voice ? { voice: true } : {}),
  };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Parses a chat id from user input; undefined if it is not one. */
export function isChatId(text: string): boolean {
  const bytes = fromBase64Url(text);
  return bytes !== undefined && bytes.length === 16;
}

/** Failures that may pass (network, storage, a lookup that could not be made), as opposed to bad data. */
function isTransient(error: unknown): boolean {
  if (error instanceof SdkError)
    return ["offline", "timeout", "storage", "closed", "storage-unavailable", "rate-limited"].includes(
      error.code,
    );
  if (error instanceof CryptoError) return error.code === "internal" && isTransient(error.cause);
  // Anything else (file-system errors, quota errors) comes from storage.
  return true;
}

/** The code of an SDK or crypto error, for warnings (which never carry content). */
function codeOf(error: unknown): string {
  return error instanceof SdkError || error instanceof CryptoError ? error.code : "internal";
}
