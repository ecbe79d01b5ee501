/**
 * Every key the SDK writes into a ClientStorage, in one place. Keys hold only ids, counters and times
 * (never content: the browser storage encrypts values, not keys). Changing a key orphans what existing
 * devices stored under the old one, so keys are never renamed, only added.
 */
const pad = (n: number): string => String(n).padStart(12, "0");

export const StorageKeys = {
  /** This device's enrolment (server, account, device id, token, signature keys). Named before "profile" meant a person's name and photo. */
  enrolment: "profile",
  /** The local history counter (order of arrival). */
  counter: "state",
  settings: "settings",

  keyPackage: (ref: string): string => `kp/${ref}`,
  keyPackages: "kp/",
  group: (groupId: string): string => `group/${groupId}`,
  /** A commit sent but not yet known to be accepted. */
  pendingCommit: (groupId: string): string => `pending-commit/${groupId}`,
  pendingCommits: "pending-commit/",
  /** An outgoing message not yet answered by the server: resent on the next start if the app died. */
  outbox: (chat: string, id: string): string => `outbox/${chat}/${id}`,
  outboxes: "outbox/",
  /** A delivery already processed (by message id). */
  seen: (messageId: string): string => `seen/${messageId}`,
  /** A user's username, cached. */
  user: (userId: string): string => `user/${userId}`,
  /** A contact's safety number as last verified (before account keys: no longer written). */
  safety: (userId: string): string => `safety/${userId}`,
  /** A contact's pinned account key and verification (trust-store.ts). */
  trust: (userId: string): string => `trust/${userId}`,
  /** This device's certificate and its account's public key, once the account signed it in. */
  credential: "credential",
  /** The account's private identity key (only on approved devices). */
  accountKey: "account-key",
  /** While this device waits for approval: the key pair the account key is sealed to, and the code. */
  approval: "approval",
  /** A link code this device showed: the secret half the server never sees (to approve the claimer). */
  linkSecret: (code: string): string => `link-secret/${code}`,
  linkSecrets: "link-secret/",
  /** The last message counter seen per chat and sender device (gaps and reordering). */
  senderCounter: (chat: string, deviceId: string): string => `counter/${chat}/${deviceId}`,
  /** This device's own outgoing message counter per chat. */
  ownCounter: (chat: string): string => `own-counter/${chat}`,
  /** A chat this device fell out of (it missed a commit): asked to be re-added. */
  rejoin: (chat: string): string => `rejoin/${chat}`,
  /** A file's decrypted bytes (the sender's own copy, or one downloaded). */
  file: (chat: string, id: string): string => `file/${chat}/${id}`,

  /** Where this user stands with a person: a contact request and its answer (features/contacts.ts). */
  contact: (userId: string): string => `contact/${userId}`,
  contacts: "contact/",

  chat: (chatId: string): string => `chat/${chatId}`,
  chats: "chat/",
  historyEntry: (chat: string, order: number): string => `hist/${chat}/${pad(order)}`,
  history: (chat: string): string => `hist/${chat}/`,
  messageIndex: (chat: string, id: string): string => `msgidx/${chat}/${id}`,
  feedEntry: (order: number): string => `feed/${pad(order)}`,
  feed: "feed/",
  /** A person's display name and avatar as they shared it. */
  userProfile: (userId: string): string => `profile/${userId}`,
  expiry: (at: number, chat: string, id: string): string => `exp/${pad(at)}/${chat}/${id}`,
  expiries: "exp/",
  /** The last key of the expiry index that falls due by `at`. */
  expiryBound: (at: number): string => `exp/${pad(at)}/~`,

  stickerPack: (id: string): string => `stickerpack/${id}`,
  stickerPacks: "stickerpack/",
  stickerImage: (pack: string, id: string): string => `stickerimg/${pack}/${id}`,
  stickerImages: (pack: string): string => `stickerimg/${pack}/`,
  stickerOffer: (chat: string, message: string): string => `stickeroffer/${chat}/${message}`,
} as const;
