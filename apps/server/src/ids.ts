import { randomBytes } from "node:crypto";
import { toBase64Url } from "@sori/protocol";

/** A fresh random id (128 bits, base64url): users, devices and blobs are named by these. */
export function newId(): string {
  return toBase64Url(randomBytes(16));
}
