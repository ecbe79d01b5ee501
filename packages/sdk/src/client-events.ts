import type { AuthRefusal } from "./transport/transport.ts";
import type { DeviceApprovalRequest } from "./device/device-approvals.ts";
import type { ChatSummary } from "./groups/chat-list.ts";
import type { ChatMessage, MessageStatus } from "./messages/chat-store.ts";
import type { ContactChange } from "./features/contacts.ts";
import type { PhoneLineRequest } from "./features/phone-lines.ts";
import type { ClientWarning } from "./warnings.ts";

export type ConnectionState = "connecting" | "connected" | "disconnected";

/** Everything a SoriClient tells its app (subscribe with `client.on`). */
export type ClientEvents = {
  message: (m: ChatMessage) => void;
  "message-status": (s: { chat: string; id: string; status: MessageStatus }) => void;
  /** A message changed: edited, deleted for everyone, reacted to. */
  "message-updated": (m: ChatMessage) => void;
  /** A message is gone from this device (its disappearing timer ran out, or deleted locally). */
  "message-removed": (m: { chat: string; id: string }) => void;
  /** An attachment upload or download moved on (bytes of ciphertext). */
  transfer: (t: { chat: string; id: string; direction: "up" | "down"; done: number; total: number }) => void;
  /** A contact's account key changed (their safety number changed), or the change was accepted. */
  safety: (s: { userId: string; username: string }) => void;
  /** A device signed in to this account and waits for approval (approveDevice / rejectDevice). */
  "device-approval": (r: DeviceApprovalRequest) => void;
  /** A new device of this account was approved and is now part of it (sign it out if it is not yours). */
  "own-device": (d: { deviceId: string; name: string; at: number }) => void;
  /**
   * The server no longer accepts this device: it was signed out (from another device, by a password
   * change or an identity reset, or its session expired), or this app is too old or too new for the
   * server. The client stops reconnecting; sign in again (or update) to go on.
   */
  "signed-out": (s: AuthRefusal) => void;
  /** This device was approved by its account (it can now chat). */
  approved: (d: { deviceId: string }) => void;
  /** Another member started or stopped typing. */
  typing: (t: { chat: string; userId: string; username: string; typing: boolean }) => void;
  chat: (c: ChatSummary) => void;
  profile: (p: { userId: string }) => void;
  /**
   * A contact relation changed: a request came in or went out, was accepted, declined or withdrawn
   * (`state` "none"), on this device, another of this user's, or by the other person.
   */
  contact: (c: ContactChange) => void;
  /** A gateway's device: someone asks it to host or drop a phone line (answer with phoneLines.reply). */
  "phone-line": (r: PhoneLineRequest) => void;
  /**
   * A gateway's device: someone (`by`, a user id) wants to reach a bridged identity of its namespace
   * that does not exist yet; make it (SoriClient.createBridgedIdentity) if the address is reachable.
   */
  "bridge-wanted": (r: { username: string; by: string }) => void;
  connection: (state: ConnectionState) => void;
  /** A problem the client handled but a person may want to know about (never contains content). */
  warning: (w: ClientWarning) => void;
};
