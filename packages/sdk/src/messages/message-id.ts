import { Id, toBase64Url } from "@sori/protocol";

/**
 * A new message id: the creation time in milliseconds as 12 hex digits, then 96 random bits
 * (16 base64url characters). Ids made later sort later as plain strings, so the server's duplicate
 * check (keyed by message id) appends to its index instead of writing a random page per message.
 * The time it reveals is the composing device's clock, which the server sees anyway when the message
 * arrives (earlier only for a message composed offline). 28 characters, valid as a protocol `Id`.
 */
export function newMessageId(now: number = Date.now()): string {
  const ms = Number.isFinite(now) ? Math.max(0, Math.min(Math.floor(now), 0xffff_ffff_ffff)) : 0;
  const time = ms.toString(16).padStart(12, "0");
  return time + toBase64Url(crypto.getRandomValues(new Uint8Array(12)));
}

/** Whether `id` has the form the protocol takes for a message id (what newMessageId makes is one). */
export function isMessageId(id: string): boolean {
  return Id.safeParse(id).success;
}
