export { bridgedNetworkOf } from "./features/bridged.ts";
export {
  type CallEntry,
  type ChatMessage,
  type DeletableKind,
  type DeletedPayload,
  type FileInfo,
  type MessageMeta,
  type MessagePayload,
  type MessageStatus,
  type SharedPack,
  type StickerRef,
  type SystemEvent,
} from "./messages/chat-store.ts";
export {
  type ChatSummary,
  type ClientEvents,
  type ConnectionState,
  isChatId,
  MAX_AVATAR_BYTES,
  SoriClient,
} from "./client.ts";
export { SdkError, type SdkErrorCode } from "./errors.ts";
export { MAX_TEXT_CHARS } from "./limits.ts";
export { newMessageId } from "./messages/message-id.ts";
export type { ClientWarning, WarningCode } from "./warnings.ts";
export type { DeviceApprovalRequest } from "./device/device-approvals.ts";
export type { FoundUser } from "./device/directory.ts";
export type { AuthRefusal } from "./transport/transport.ts";
export { MemoryStorage } from "./storage/memory-storage.ts";
export { type ClientStorage, getJson, putJson } from "./storage/storage.ts";
export { Call, type CallEvents, type RemoteMedia } from "./calls/call.ts";
export {
  checkDtmfTones,
  DtmfError,
  type DtmfErrorCode,
  type DtmfFrame,
  DtmfReceiver,
  DtmfSender,
} from "./calls/dtmf.ts";
export {
  CallError,
  CallManager,
  type CallManagerEvents,
  type CallOptions,
  RING_TIMEOUT_MS,
} from "./calls/call-manager.ts";
export {
  type CallDirection,
  type CallEndReason,
  type CallState,
  type CallTimings,
} from "./calls/call-machine.ts";
export {
  type CallLogBody,
  type CallOutcome,
  type CallSignal,
  type ForeignParty,
  type PhoneLineRef,
} from "./calls/call-signal.ts";
export type {
  CallMediaControl,
  CallPlatform,
  IceCandidateLike,
  IceServer,
  PeerConnectionConfig,
  PeerConnectionLike,
  RtpTransceiverLike,
  SessionDescriptionLike,
  StatsReportLike,
} from "./calls/peer.ts";
export { type CallQuality, type CallStats, rateQuality, summarizeStats } from "./calls/quality.ts";
export { type ClientSettings, DEFAULT_SETTINGS, TIMER_CHOICES } from "./messages/message-features.ts";
export {
  decryptAttachment,
  encryptAttachment,
  type FileInput,
  type TransferProgress,
} from "./features/attachments.ts";
export { type SafetyNumber, safetyNumberOf } from "./features/safety-number.ts";
export {
  MAX_PHONE_LINES,
  type PhoneLine,
  type PhoneLineRequest,
  type PhoneLines,
  type PhoneLineSettings,
} from "./features/phone-lines.ts";
export type { Contact, ContactChange, Contacts } from "./features/contacts.ts";
export type { ContactSide, ContactState } from "./features/contact-rules.ts";
export { EncryptedStorage } from "./storage/encrypted-storage.ts";
export { BUILT_IN_PACK, MAX_STICKER_BYTES, type StickerPack } from "./features/sticker-packs.ts";
export type { Push, PushStatus, PushSubscriptionJson } from "./features/push.ts";
