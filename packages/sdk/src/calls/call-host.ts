import type { DeviceContext } from "../device/device-context.ts";
import type { Directory } from "../device/directory.ts";
import type { Profiles } from "../features/profiles.ts";
import { SdkError } from "../errors.ts";
import type { ChatList, ChatSummary } from "../groups/chat-list.ts";
import type { MessageSender } from "../messages/message-sender.ts";
import { newMessageId } from "../messages/message-id.ts";
import type { CallHistory } from "./call-history.ts";
import type { CallHost } from "./call-manager.ts";

/** What the call manager gets from the device: signalling inside MLS, call history, the direct chat. */
export function createCallHost(
  ctx: DeviceContext,
  deps: {
    sender: MessageSender;
    history: CallHistory;
    chatList: ChatList;
    chatFor(target: string): Promise<ChatSummary>;
    profiles: Profiles;
    directory: Directory;
  },
): CallHost {
  return {
    userId: ctx.enrolment.userId,
    deviceId: ctx.enrolment.deviceId,
    sendSignal: async (chatId, callId, signal) => {
      await deps.sender.sendContent(
        chatId,
        { v: 1, type: "call", id: newMessageId(), callId, signal, sentAt: Date.now() },
        // A ring wakes the callee's offline devices (Web Push); nothing else of a call does.
        signal.kind === "ring" ? { transient: true, wake: "call" } : { transient: true },
      );
    },
    sendCallLog: async (chatId, log) => {
      const content = { v: 1 as const, type: "call-log" as const, id: newMessageId(), ...log };
      await deps.history.append(chatId, ctx.enrolment.userId, Date.now(), content);
      await deps.sender.sendContent(chatId, content);
    },
    directChat: async (target) => {
      const chat = await deps.chatFor(target);
      const peer = chat.kind === "direct" ? await deps.chatList.directPeer(chat.id) : undefined;
      if (!peer) throw new SdkError("bad-request", "calls are 1:1: pick a direct chat or a username");
      await deps.chatList.requireChat(chat.id);
      return { chatId: chat.id, peer };
    },
    directPeer: (chatId) => deps.chatList.directPeer(chatId),
    phoneLinesOf: (userId) => deps.profiles.linesOf(userId),
    usernameOf: (userId) => deps.directory.usernameOf(userId),
    isGateway: (userId) => deps.directory.isGateway(userId),
    turnCredentials: async () => {
      const r = await ctx.request({ type: "turn.credentials" });
      return { iceServers: r.iceServers, ttlS: r.ttlS };
    },
    warn: (code, message) => ctx.warn(code, message),
  };
}
