import { z } from "zod";
import { CallLogBody, CallSignal } from "./calls/call-signal.ts";

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
  }),
  /** A sticker from a pack (the built-in one is "sori"). */
  z.object({
    v: z.literal(1),
    type: z.literal("sticker"),
    id: z.string().max(64),
    pack: z.string().max(64),
    sticker: z.string().max(64),
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
  /** The sender's user leaves the group; the others' devices commit the removal. */
  z.object({ v: z.literal(1), type: z.literal("leave"), id: z.string().max(64) }),
  /** The sender's display name and avatar (base64 image bytes), shown to chat partners. */
  z.object({
    v: z.literal(1),
    type: z.literal("profile"),
    id: z.string().max(64),
    displayName: z.string().max(64).nullable(),
    avatar: z.string().max(90_000).nullable(),
  }),
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

export function encodeContent(content: Content): Uint8Array {
  return encoder.encode(JSON.stringify(content));
}

/** Parses decrypted bytes; undefined for anything this client does not understand. */
export function decodeContent(bytes: Uint8Array): Content | undefined {
  try {
    const parsed = Content.safeParse(JSON.parse(decoder.decode(bytes)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
