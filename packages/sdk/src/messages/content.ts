import { MAX_DISAPPEARING_TIMER_S } from "@sori/protocol";
import { z } from "zod";
import { CallLogBody, CallSignal } from "../calls/call-signal.ts";
import { MAX_UNDELIVERED_REASON_CHARS } from "../limits.ts";

/** Disappearing timers go up to one week (the server clamps undelivered copies' expiry to it too). */
export const MAX_TIMER_SECONDS = MAX_DISAPPEARING_TIMER_S;

/** Where to find an encrypted blob and how to decrypt and check it. */
export const FileRef = z.object({
  blobId: z.string().max(64),
  /** AES-256-GCM key, base64url. */
  key: z.string().max(64),
  /** SHA-256 of the ciphertext, base64url: checked before decrypting. */
  hash: z.string().max(64),
  name: z.string().max(255),
  mime: z.string().max(100),
  /** Plaintext size in bytes. */
  size: z.number().int().nonnegative(),
  /** A small preview image (base64), made by the sender. */
  thumbnail: z.string().max(20_000).optional(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  /** Voice messages: length in seconds. */
  durationS: z.number().nonnegative().optional(),
  voice: z.boolean().optional(),
});
export type FileRef = z.infer<typeof FileRef>;

export const StickerPackManifest = z.object({
  id: z.string().regex(/^[\w.-]{1,64}$/),
  name: z.string().min(1).max(64),
  stickers: z
    .array(z.object({ id: z.string().regex(/^[\w.-]{1,64}$/), file: FileRef }))
    .min(1)
    .max(100),
});
export type StickerPackManifest = z.infer<typeof StickerPackManifest>;

/** A phone line as its owner lists it in their profile (see features/phone-lines.ts). */
export const PhoneLineWire = z.object({
  id: z.string().min(8).max(64),
  name: z.string().min(1).max(32),
  /** The gateway account that hosts it. */
  gateway: z.object({ userId: z.string().min(1).max(64), username: z.string().min(1).max(64) }),
});
export type PhoneLineWire = z.infer<typeof PhoneLineWire>;

/**
 * A change to a phone line, between its owner's device and the gateway that hosts it (in their direct
 * chat): the owner adds or removes it, the gateway answers whether it took it and how phones reach it.
 */
export const PhoneLineChange = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("add"),
    line: z.object({ id: z.string().min(8).max(64), name: z.string().min(1).max(32) }),
    /** The SIP digest password; the gateway keeps only digests of it. */
    password: z.string().min(16).max(64),
  }),
  z.object({ op: z.literal("remove"), line: z.object({ id: z.string().min(8).max(64) }) }),
  z.object({
    op: z.literal("ready"),
    line: z.object({ id: z.string().min(8).max(64) }),
    /** What the phone is configured with: its address of record, digest user name and registrar. */
    aor: z.string().min(1).max(256),
    authUser: z.string().min(1).max(128),
    registrar: z.string().min(1).max(256),
  }),
  z.object({
    op: z.literal("refused"),
    line: z.object({ id: z.string().min(8).max(64) }),
    reason: z.string().max(300),
  }),
]);
export type PhoneLineChange = z.infer<typeof PhoneLineChange>;

/** Fields every user-visible message may carry. Older clients ignore them. */
const UserMessageExtras = z.object({
  /** The quoted message: id, author and a snippet (the original may be gone on this device). */
  replyTo: z
    .object({ id: z.string().max(64), fromUserId: z.string().max(64), text: z.string().max(200) })
    .optional(),
  forwarded: z.boolean().optional(),
  /** Disappearing timer in seconds, counted from when it is read. */
  expiresIn: z.number().int().positive().max(MAX_TIMER_SECONDS).optional(),
});

/**
 * What travels inside an MLS application message. The server never sees any of it. Unknown types
 * are ignored by older clients, so new kinds can be added without breaking them.
 */
export const Content = z.discriminatedUnion("type", [
  z.object({
    v: z.literal(1),
    type: z.literal("text"),
    id: z.string().max(64),
    text: z.string().max(16_000),
    sentAt: z.number(),
    ...UserMessageExtras.shape,
  }),
  /** A sticker from a pack (the built-in one is "sori"). */
  z.object({
    v: z.literal(1),
    type: z.literal("sticker"),
    id: z.string().max(64),
    pack: z.string().max(64),
    sticker: z.string().max(64),
    /** A sticker from a user-made pack carries its image, so people without the pack see it. */
    file: FileRef.optional(),
    sentAt: z.number(),
    ...UserMessageExtras.shape,
  }),
  /** An encrypted attachment: the blob on the server is AES-256-GCM ciphertext under `key`. */
  z.object({
    v: z.literal(1),
    type: z.literal("file"),
    id: z.string().max(64),
    file: FileRef,
    text: z.string().max(16_000).optional(),
    sentAt: z.number(),
    ...UserMessageExtras.shape,
  }),
  /** Adds (`on`) or takes back one emoji reaction of the sender to a message. */
  z.object({
    v: z.literal(1),
    type: z.literal("reaction"),
    id: z.string().max(64),
    target: z.string().max(64),
    emoji: z.string().min(1).max(32),
    on: z.boolean(),
  }),
  /** The sender changes the text of one of their own messages. */
  z.object({
    v: z.literal(1),
    type: z.literal("edit"),
    id: z.string().max(64),
    target: z.string().max(64),
    text: z.string().max(16_000),
  }),
  /** The sender deletes one of their own messages for everyone. */
  z.object({
    v: z.literal(1),
    type: z.literal("delete"),
    id: z.string().max(64),
    target: z.string().max(64),
  }),
  /** "I have read everything up to this server time": turns the sender's messages to "read". */
  z.object({ v: z.literal(1), type: z.literal("read"), id: z.string().max(64), upTo: z.number() }),
  /** The sender started or stopped typing. */
  z.object({ v: z.literal(1), type: z.literal("typing"), id: z.string().max(64), on: z.boolean() }),
  /** The chat's disappearing-message timer, set by any member (0 = off). */
  z.object({
    v: z.literal(1),
    type: z.literal("timer"),
    id: z.string().max(64),
    seconds: z.number().int().min(0).max(MAX_TIMER_SECONDS),
    sentAt: z.number(),
  }),
  /** A sticker pack shared in a chat: its manifest, the images being encrypted blobs. */
  z.object({
    v: z.literal(1),
    type: z.literal("sticker-pack"),
    id: z.string().max(64),
    pack: StickerPackManifest,
    sentAt: z.number(),
  }),
  /** Chat metadata, sent after creating a chat, after adding devices and on rename. */
  z.object({
    v: z.literal(1),
    type: z.literal("meta"),
    id: z.string().max(64),
    kind: z.enum(["direct", "group"]),
    name: z.string().max(100).optional(),
    sentAt: z.number(),
  }),
  /** "These messages reached my device": turns the sender's messages to "delivered". */
  z.object({
    v: z.literal(1),
    type: z.literal("receipt"),
    id: z.string().max(64),
    ids: z.array(z.string().max(64)).max(500),
  }),
  /**
   * "These messages could not be passed on past me": a bridged identity's gateway says the other
   * network refused them (`reason`, its words). Turns the sender's messages to "failed" there.
   */
  z.object({
    v: z.literal(1),
    type: z.literal("undelivered"),
    id: z.string().max(64),
    ids: z.array(z.string().max(64)).min(1).max(500),
    reason: z.string().min(1).max(MAX_UNDELIVERED_REASON_CHARS),
  }),
  /** The sender's user leaves the group; the others' devices commit the removal. */
  z.object({ v: z.literal(1), type: z.literal("leave"), id: z.string().max(64) }),
  /** The sender's display name and avatar (base64 image bytes), shown to chat partners. */
  z.object({
    v: z.literal(1),
    type: z.literal("profile"),
    id: z.string().max(64),
    displayName: z.string().max(64).nullable(),
    avatar: z.string().max(90_000).nullable(),
    /** The sender's phone lines at gateways; absent from older clients (then the last known stay). */
    lines: z.array(PhoneLineWire).max(5).optional(),
  }),
  /**
   * A contact request or its answer, in the two people's direct chat (never shown as a message; see
   * features/contacts.ts). Sent unnumbered: clients from before it drop content they cannot parse
   * without noting its number, so a numbered one would read to them as a lost message.
   */
  z.object({
    v: z.literal(1),
    type: z.literal("contact"),
    id: z.string().max(64),
    op: z.enum(["request", "accept", "decline", "withdraw"]),
    sentAt: z.number(),
  }),
  /** A phone line change (never shown in the chat; see PhoneLineChange). */
  z.object({ v: z.literal(1), type: z.literal("sip-line"), id: z.string().max(64), change: PhoneLineChange }),
  /** One call-signalling step (sent transiently, never stored as a chat message). */
  z.object({
    v: z.literal(1),
    type: z.literal("call"),
    id: z.string().max(64),
    callId: z.string().min(1).max(64),
    signal: CallSignal,
    sentAt: z.number(),
  }),
  /** A finished call, for the chat's history (sent durably by the caller's device). */
  z.object({ v: z.literal(1), type: z.literal("call-log"), id: z.string().max(64), ...CallLogBody.shape }),
]);
export type Content = z.infer<typeof Content>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes content for encryption. `seq` numbers the sender device's durable messages in the chat
 * (1, 2, 3, …): inside the encryption, so a receiver can tell when the server dropped or reordered
 * some (carried as `n` beside the content's own fields).
 */
export function encodeContent(content: Content, seq?: number): Uint8Array {
  return encoder.encode(JSON.stringify(seq === undefined ? content : { ...content, n: seq }));
}

/** Parses decrypted bytes; undefined for anything this client does not understand. */
export function decodeContent(bytes: Uint8Array): Content | undefined {
  return decodeEnvelope(bytes)?.content;
}

/** Parses decrypted bytes into the content and the sender's counter (if it numbered it). */
export function decodeEnvelope(bytes: Uint8Array): { content: Content; seq: number | undefined } | undefined {
  try {
    const json: unknown = JSON.parse(decoder.decode(bytes));
    const parsed = Content.safeParse(json);
    if (!parsed.success) return undefined;
    const n = (json as { n?: unknown }).n;
    const seq = typeof n === "number" && Number.isSafeInteger(n) && n > 0 ? n : undefined;
    return { content: parsed.data, seq };
  } catch {
    return undefined;
  }
}
