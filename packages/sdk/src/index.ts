export { type ChatMessage, type FileInfo, type MessageStatus, type SystemEvent } from "./chat-store.ts";
export {
  type ChatSummary,
  type ClientEvents,
  type ConnectionState,
  isChatId,
  MAX_AVATAR_BYTES,
  SoriClient,
} from "./client.ts";
export { SdkError, type SdkErrorCode } from "./errors.ts";
export { MemoryStorage } from "./memory-storage.ts";
export { type ClientStorage, getJson, putJson } from "./storage.ts";
export { type ClientSettings, DEFAULT_SETTINGS, TIMER_CHOICES } from "./message-features.ts";
export {
  decryptAttachment,
  encryptAttachment,
  type FileInput,
  type TransferProgress,
} from "./attachments.ts";
export { type SafetyNumber, safetyNumberOf } from "./safety-number.ts";
export { EncryptedStorage } from "./encrypted-storage.ts";
export { BUILT_IN_PACK, MAX_STICKER_BYTES, type StickerPack } from "./sticker-packs.ts";
