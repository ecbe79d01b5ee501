import { z } from "zod";
import { fromBase64 } from "./base64.ts";
import { BRIDGED_USERNAME_PATTERN, PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN } from "./limits.ts";

/** Server- or client-generated identifier: 16 random bytes as unpadded base64url (22 chars). */
export const Id = z.string().regex(/^[A-Za-z0-9_-]{16,43}$/, "must be a base64url id");

export const Username = z
  .string()
  .regex(USERNAME_PATTERN, "must be 3–32 characters of letters, digits, '_', '.' or '-'");

/** A bridged identity's username: `<namespace>:<address on the other network>` (see limits.ts). */
export const BridgedUsername = z
  .string()
  .regex(BRIDGED_USERNAME_PATTERN, "must be a namespace, ':' and an address of 1–256 characters");

/** Any account's username, as the directory names it: a plain one or a bridged identity's. */
export const AnyUsername = z.union([Username, BridgedUsername]);

export const Password = z
  .string()
  .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX);

/** Binary data as standard base64; decoded to bytes during parsing so code behind the edge sees Uint8Array. */
export const Bytes = z.string().transform((s, ctx): Uint8Array => {
  const bytes = fromBase64(s);
  if (bytes === undefined) {
    ctx.addIssue({ code: "custom", message: "must be standard base64" });
    return z.NEVER;
  }
  return bytes;
});

/** Request id chosen by the client so it can match results to requests. */
export const RequestId = z.union([z.string().max(64), z.number().int().nonnegative()]);

export const Epoch = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
