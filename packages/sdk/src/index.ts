export { type ChatMessage, type ChatSummary, type ClientEvents, isChatId, SoriClient } from "./client.ts";
export { SdkError, type SdkErrorCode } from "./errors.ts";
export { MemoryStorage } from "./memory-storage.ts";
export { type ClientStorage, getJson, putJson } from "./storage.ts";
