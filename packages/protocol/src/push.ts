import { z } from "zod";
import { fromBase64Url } from "./base64.ts";

/**
 * Web Push (feature level 7): a device's push subscription, as the browser's
 * `PushSubscription.toJSON()` gives it, and the wake-ups the server sends to it. Runs in browsers too:
 * the URL and the keys are checked here as far as a parser can; the server adds what only it knows
 * (the operator's allowed push hosts, that p256dh is a point on the curve).
 */

/** Bytes as unpadded base64url (what the Push API hands out), of exactly `length` bytes. */
const base64UrlBytes = (length: number, what: string): z.ZodType<Uint8Array, string> =>
  z
    .string()
    .max(256)
    .transform((s, ctx): Uint8Array => {
      const bytes = fromBase64Url(s);
      if (bytes === undefined || bytes.length !== length) {
        ctx.addIssue({ code: "custom", message: `must be ${what}: ${length} bytes as base64url` });
        return z.NEVER;
      }
      return bytes;
    });

/** Longest endpoint URL taken: the big push services use a few hundred characters. */
export const PUSH_ENDPOINT_MAX = 2048;

/**
 * A push service's endpoint: an absolute http(s) URL without credentials or fragment. Whether its
 * host is allowed, and whether plain http is (only on loopback, for tests), is the server's call.
 */
const PushEndpoint = z
  .string()
  .max(PUSH_ENDPOINT_MAX)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === "https:" || u.protocol === "http:") && !u.username && !u.password && !u.hash;
    } catch {
      return false;
    }
  }, "must be an absolute https URL without user name, password or fragment");

export const PushSubscriptionKeys = z
  .object({
    /** The subscription's P-256 public key, uncompressed (65 bytes, starting 0x04). */
    p256dh: base64UrlBytes(65, "an uncompressed P-256 public key").refine(
      (b) => b[0] === 4,
      "must be an uncompressed P-256 public key (starting 0x04)",
    ),
    /** The subscription's authentication secret (16 bytes). */
    auth: base64UrlBytes(16, "the subscription's authentication secret"),
  })
  .strict();

/** The fields of `push.subscribe`: a PushSubscription's JSON (its `expirationTime` is taken and ignored). */
export const PUSH_SUBSCRIPTION_SHAPE = {
  endpoint: PushEndpoint,
  keys: PushSubscriptionKeys,
  expirationTime: z.number().nullable().optional(),
};

/**
 * What a wake-up tells the woken device, and all it tells: that something came (`message`: its queue
 * has something to show) or that someone is calling (`call`). No content, sender, chat or id.
 */
export const PUSH_WAKE_KINDS = ["message", "call"] as const;
export type PushWakeKind = (typeof PUSH_WAKE_KINDS)[number];

/** The decrypted payload of every push the server sends. */
export const PushPayload = z.object({ kind: z.enum(PUSH_WAKE_KINDS) }).strict();
export type PushPayload = z.infer<typeof PushPayload>;

/** `push.status`: the server's VAPID key (null when push is switched off) and this device's subscription. */
export const PushStatus = z.object({
  /** The applicationServerKey to subscribe with: the uncompressed P-256 point, base64url. */
  vapidPublicKey: z.string().nullable(),
  /** This device's subscription: only the push service's host and when it was registered. */
  subscription: z.object({ host: z.string(), since: z.number() }).nullable(),
});
