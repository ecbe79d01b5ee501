import { CallHistory } from "./calls/call-history.ts";
import { createCallHost } from "./calls/call-host.ts";
import { CallManager } from "./calls/call-manager.ts";
import type { ClientEvents } from "./client-events.ts";
import type { DeviceContext } from "./device/device-context.ts";
import { type DeviceEnrolment, deviceKeysOf, identityOf } from "./device/device-enrolment.ts";
import { Devices } from "./device/devices.ts";
import { AccountIdentity } from "./device/account-identity.ts";
import { DeviceApprovals } from "./device/device-approvals.ts";
import { Directory } from "./device/directory.ts";
import { TrustStore } from "./device/trust-store.ts";
import { KeyPackages } from "./device/key-packages.ts";
import { Contacts } from "./features/contacts.ts";
import { Files } from "./features/files.ts";
import { PhoneLines } from "./features/phone-lines.ts";
import { Profiles } from "./features/profiles.ts";
import { Push } from "./features/push.ts";
import { SafetyNumbers } from "./features/safety-numbers.ts";
import { Stickers } from "./features/stickers.ts";
import { Timers } from "./features/timers.ts";
import { ChatList, type ChatSummary } from "./groups/chat-list.ts";
import { GroupStates } from "./groups/group-states.ts";
import { Membership } from "./groups/membership.ts";
import { PendingCommits } from "./groups/pending-commits.ts";
import { Rejoin } from "./groups/rejoin.ts";
import { ChatStore } from "./messages/chat-store.ts";
import { ContentHandler } from "./messages/content-handler.ts";
import { Expiry } from "./messages/expiry.ts";
import { Inbox } from "./messages/inbox.ts";
import { MessageActions } from "./messages/message-actions.ts";
import { MessageSender } from "./messages/message-sender.ts";
import { Receipts } from "./messages/receipts.ts";
import { SenderOrder } from "./messages/sender-order.ts";
import { appendSystemLine } from "./messages/system-line.ts";
import type { ClientStorage } from "./storage/storage.ts";
import { Connection } from "./transport/connection.ts";
import { Mutex } from "./util/mutex.ts";
import { TypedEmitter } from "./util/typed-emitter.ts";

/** The parts one device is made of, wired to each other; SoriClient delegates to them. */
export type ClientModules = {
  readonly ctx: DeviceContext;
  readonly connection: Connection;
  readonly directory: Directory;
  readonly keyPackages: KeyPackages;
  readonly pending: PendingCommits;
  readonly chatList: ChatList;
  readonly membership: Membership;
  readonly sender: MessageSender;
  readonly inbox: Inbox;
  readonly receipts: Receipts;
  readonly actions: MessageActions;
  readonly expiry: Expiry;
  readonly files: Files;
  readonly stickers: Stickers;
  readonly safety: SafetyNumbers;
  readonly profiles: Profiles;
  readonly phoneLines: PhoneLines;
  readonly contacts: Contacts;
  readonly timers: Timers;
  readonly devices: Devices;
  readonly calls: CallManager;
  readonly account: AccountIdentity;
  readonly approvals: DeviceApprovals;
  readonly push: Push;
};

/**
 * Builds a device's parts and wires them to each other (the composition root). Parts reach the ones
 * built after them through closures, which run only once everything here exists. `chatFor` is the
 * facade's "chat id or username" lookup, which creates a direct chat when needed.
 */
export function assembleClient(
  storage: ClientStorage,
  enrolment: DeviceEnrolment,
  chatFor: (target: string) => Promise<ChatSummary>,
): ClientModules {
  const events = new TypedEmitter<ClientEvents>();
  const groups: GroupStates = new GroupStates(storage);
  const connection: Connection = new Connection(enrolment, events, {
    onConnected: (restored) => {
      if (restored) calls.connectionRestored();
      if (pending.any) ctx.later(() => pending.flushAll());
    },
    onDisconnected: () => inbox.disconnected(),
    onDelivery: (d) => inbox.push(d),
    onRelay: (r) => void inbox.relay(r),
    onSynced: (upTo) => inbox.synced(upTo),
    onKeyPackagesLow: () => {
      if (account.approved) void keyPackages.refill();
    },
    onAuthFailed: (refusal) => {
      inbox.wake();
      approvals.signedOut(refusal.message);
      ctx.events.emit("signed-out", refusal);
    },
  });
  const identity = identityOf(enrolment);
  const keys = deviceKeysOf(enrolment);
  const account: AccountIdentity = new AccountIdentity(storage, identity, keys);
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
  const trust: TrustStore = new TrustStore(storage);
  const directory: Directory = new Directory(ctx, enrolment, trust, {
    identityChanged: (userId) => safety.identityChanged(userId),
  });
  const keyPackages: KeyPackages = new KeyPackages(ctx);
  const chatList: ChatList = new ChatList(ctx, directory);
  groups.onMembersChanged((groupId, userIds) => chatList.membersChanged(groupId, userIds));
  // What the device sends by itself (receipts, profiles) waits quietly while a key change is pending.
  const autoSend = (chat: string, content: Parameters<MessageSender["sendContent"]>[1]): Promise<number> =>
    sender.sendContent(chat, content, { whenBlocked: "skip" });
  const expiresAt = (at: number): void => expiry.schedule(at);
  const emitChat = (chat: string): Promise<void> => chatList.emitChat(chat);

  const safety: SafetyNumbers = new SafetyNumbers(ctx, directory, trust);
  const senderOrder: SenderOrder = new SenderOrder(ctx, directory);
  const approvals: DeviceApprovals = new DeviceApprovals(ctx, account);
  const pending: PendingCommits = new PendingCommits(ctx, {
    adopted: (groupId) => chatList.emitChat(groupId),
    sendMeta: (groupId) => membership.sendMeta(groupId, "skip"),
  });
  const profiles: Profiles = new Profiles(ctx, autoSend);
  const phoneLines: PhoneLines = new PhoneLines(ctx, {
    profiles,
    isGateway: (userId) => directory.isGateway(userId),
    chatList,
    chatFor,
    send: (chat, content) => sender.sendContent(chat, content),
  });
  const contacts: Contacts = new Contacts(ctx, {
    chatFor,
    directPeer: (chat) => chatList.directPeer(chat),
    send: (chat, content, auto) =>
      sender.sendContent(chat, content, { unnumbered: true, ...(auto ? { whenBlocked: "skip" } : {}) }),
    noted: async (c) => {
      await appendSystemLine(ctx, {
        chat: c.chat,
        from: c.username,
        fromUserId: c.userId,
        system: { event: "contact", userId: c.userId, username: c.username, state: c.state, by: c.by },
        outgoing: c.by === "me",
        // What the other person did is something to answer or to hear of, like a message.
        notify: c.by === "them",
      });
      await chatList.emitChat(c.chat);
    },
  });
  const rejoin: Rejoin = new Rejoin(ctx, { pending: pending, directory });
  const membership: Membership = new Membership(ctx, {
    pending: pending,
    directory,
    chatList,
    sendContent: (chat, content, options) => sender.sendContent(chat, content, options),
    sendOwnProfile: (groupId) => profiles.shareIn(groupId),
    requireTrusted: (userIds) => safety.requireTrusted(userIds),
    pendingChanges: (userIds) => trust.pendingChanges(userIds),
    refused: (groupId, refused, options) => safety.refused(groupId, refused, options),
  });
  const sender: MessageSender = new MessageSender(ctx, {
    pending: pending,
    reconcile: (groupId) => membership.reconcile(groupId),
    connected: () => connection.started,
    waitConnected: () => connection.waitConnected(),
    userMessageSent: (chatId) => actions.messageSent(chatId),
    expiresAt,
    nextSeq: (groupId) => senderOrder.next(groupId),
    releaseSeq: (groupId, seq) => senderOrder.release(groupId, seq),
    blockedBy: (groupId) => safety.blockedBy(groupId),
    changedError: (userIds) => safety.changedError(userIds),
    isBehind: (groupId) => rejoin.isBehind(groupId),
    refusedDevices: () => membership.refusedDevices,
    featureLevel: () => connection.featureLevel,
  });
  const expiry: Expiry = new Expiry(ctx, emitChat);
  const receipts: Receipts = new Receipts(ctx, { send: autoSend, emitChat, expiresAt });
  const actions: MessageActions = new MessageActions(ctx, {
    chatList,
    sender: sender,
    chatFor,
    uploadCopy: (bytes) => files.upload(bytes),
  });
  const files: Files = new Files(ctx, {
    chatList,
    sender: sender,
    chatFor,
    replyOf: (chatId, options) => actions.replyOf(chatId, options),
    expiresAt,
  });
  const stickers: Stickers = new Stickers(ctx, {
    chatList,
    sender: sender,
    files: files,
    replyOf: (chatId, options) => actions.replyOf(chatId, options),
  });
  const timers: Timers = new Timers(ctx, { sender: sender, directory, chatList });
  const callHistory: CallHistory = new CallHistory(ctx, directory, emitChat);
  const calls: CallManager = new CallManager(
    createCallHost(ctx, { sender: sender, history: callHistory, chatList, chatFor, profiles, directory }),
  );
  const callSignal: ContentHandlerCallSignal = (chat, sender, content, sentAt) =>
    calls.handleSignal(chat, sender, content.callId, content.signal, sentAt);
  const content: ContentHandler = new ContentHandler(ctx, {
    directory,
    chatList,
    membership: membership,
    receipts: receipts,
    actions: actions,
    profiles: profiles,
    phoneLines,
    contacts,
    timers: timers,
    stickers: stickers,
    callHistory,
    callSignal: (chat, sender, c, sentAt) => ctx.later(async () => callSignal(chat, sender, c, sentAt)),
    expiresAt,
  });
  const inbox: Inbox = new Inbox(ctx, {
    pending: pending,
    directory,
    keyPackages: keyPackages,
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
    bridgeWanted: (username, from) => events.emit("bridge-wanted", { username, by: from.userId }),
    deactivate: (groupId) => membership.deactivate(groupId),
    addOwnDevice: async (deviceId, at) => {
      // Told on every device of the account, with a way to sign it out if it is not the person's.
      const listed = await devices
        .list()
        .catch(() => ({ devices: [] as { deviceId: string; name: string }[] }));
      const name = listed.devices.find((d) => d.deviceId === deviceId)?.name ?? "a new device";
      events.emit("own-device", { deviceId, name, at });
      await membership.addOwnDevice();
    },
    devicePending: () => approvals.onPending(),
    deviceApproved: () => approvals.onApproved(),
    membersChanged: async (groupId, _before, _after, change) => {
      for (const m of change.added)
        if (!directory.knowsUsername(m.userId)) void directory.usernameOf(m.userId);
      if (change.added.length > 0 || change.removed.length > 0) void chatList.emitChat(groupId);
    },
    joined: async (groupId) => {
      await safety.noteInNewChat(groupId);
      await profiles.shareIn(groupId);
      // Apps (and gateways, which invite to a room) learn of a chat they were added to at once.
      void chatList.emitChat(groupId);
    },
    drained: () => receipts.flushLater(),
  });
  const devices: Devices = new Devices(enrolment);
  const push: Push = new Push(ctx, {
    waitConnected: () => connection.waitConnected(),
    featureLevel: () => connection.featureLevel,
  });
  // Approved while connected: the first KeyPackages make the device active, and others add it.
  events.on("approved", () => ctx.later(() => keyPackages.refill()));
  return {
    ctx,
    connection,
    directory,
    keyPackages,
    pending,
    chatList,
    membership,
    sender,
    inbox,
    receipts,
    actions,
    expiry,
    files,
    stickers,
    safety,
    profiles,
    phoneLines,
    contacts,
    timers,
    devices,
    calls,
    account,
    approvals,
    push,
  };
}

type ContentHandlerCallSignal = ConstructorParameters<typeof Inbox>[1]["onCallSignal"];
