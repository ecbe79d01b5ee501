import { z } from "zod";

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
  /** Chat metadata, sent after creating a chat and after adding devices, so newcomers learn it. */
  z.object({
    v: z.literal(1),
    type: z.literal("meta"),
    id: z.string().max(64),
    kind: z.enum(["direct", "group"]),
    name: z.string().max(100).optional(),
    sentAt: z.number(),
  }),
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
