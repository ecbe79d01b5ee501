import { z } from "zod";
import { BridgedUsername, Bytes, Id, Password, Username } from "./schema-parts.ts";

/**
 * The device half of register/login/link: its name, MLS signature key, and (login and link) the
 * public key an approving device seals the account key to. A device becomes active (visible to others,
 * addable to chats) once its account certified it and it uploaded KeyPackages.
 */
export const DeviceUpload = z.object({
  name: z.string().min(1).max(64),
  signatureKey: Bytes,
  transferKey: Bytes.optional(),
});
export type DeviceUpload = z.infer<typeof DeviceUpload>;

/** POST /api/v1/register and POST /api/v1/login (login adds a new device to an existing account). */
export const AuthRequest = z.object({
  username: Username,
  password: Password,
  device: DeviceUpload,
});
export type AuthRequest = z.infer<typeof AuthRequest>;

/**
 * What a new device must do before it belongs to the account:
 * - "init-required": a new account; this device makes the account key (`account.init`);
 * - "pending": another device of the account must approve it (`device.approve`);
 * - "reset-required": the account has no approved device left: this device makes a new account key
 *   (`account.reset`), and every contact sees the safety number change.
 */
export type Approval = "init-required" | "pending" | "reset-required";

/** Response to register, login and link claims. The token authenticates this device only. */
export type AuthResponse = {
  userId: string;
  username: string;
  deviceId: string;
  token: string;
  approval: Approval;
  /** The account key the server has for the account (null for a new account): a hint the approval is checked against. */
  accountKey: string | null;
};

/**
 * POST /api/v1/bridge/identities (bearer: an approved device of the gateway that owns the username's
 * namespace, feature level 6): makes a bridged identity, an account without a password whose one
 * device (`device`) the gateway runs; answered like register (`init-required`). An identity that
 * exists already is `username-taken`.
 */
export const BridgeIdentityRequest = z.object({ username: BridgedUsername, device: DeviceUpload }).strict();
export type BridgeIdentityRequest = z.infer<typeof BridgeIdentityRequest>;

/** GET /api/v1/devices */
export type DeviceListResponse = {
  devices: {
    deviceId: string;
    name: string;
    createdAt: number;
    lastSeenAt: number | null;
    current: boolean;
    /** "pending": signed in but not approved by the account (yet). */
    state: "active" | "pending";
  }[];
};

/** POST /api/v1/password (bearer): changes the password and signs every other device out. */
export const PasswordChangeRequest = z.object({ password: Password, newPassword: Password }).strict();
export type PasswordChangeRequest = z.infer<typeof PasswordChangeRequest>;

/** DELETE /api/v1/devices/:deviceId path parameter. */
export const DevicePath = Id;

/** GET /healthz */
export type HealthResponse = {
  /**
   * False (with HTTP 503) when the store did not answer a read within a few seconds ("unavailable"),
   * or refuses every write since the disk failed to make one durable ("read-only": restart needed).
   */
  ok: boolean;
  version: string;
  protocol: number;
  store: "ok" | "unavailable" | "read-only";
};

/** Every HTTP error body. */
export type HttpErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

export const API_PREFIX = "/api/v1";
export const WS_PATH = "/api/v1/ws";

/** Largest chunk of one blob upload request (PUT /api/v1/blobs/:id?offset=N). */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

/** POST /api/v1/blobs: announces an encrypted attachment of `size` bytes (ciphertext). */
export const BlobCreateRequest = z
  .object({
    size: z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 40),
  })
  .strict();
export type BlobCreateRequest = z.infer<typeof BlobCreateRequest>;
export type BlobCreateResponse = { blobId: string; chunkBytes: number };

/** GET /api/v1/blobs/:id/status, and the answer to each chunk upload. */
export type BlobStatusResponse = { size: number; received: number };

/**
 * POST /api/v1/links/claim: a new device joins the account of the device that showed `code`. `proof`
 * is an HMAC, keyed with the part of the shown code the server never sees, over the device's keys: it
 * lets the showing device approve exactly this device, and no device the server made up.
 */
export const LinkClaimRequest = z
  .object({ code: z.string().min(4).max(64), device: DeviceUpload, proof: Bytes.optional() })
  .strict();
export type LinkClaimRequest = z.infer<typeof LinkClaimRequest>;
/** POST /api/v1/links (bearer): a fresh single-use code, valid until `expiresAt` (ms). */
export type LinkCreateResponse = { code: string; expiresAt: number };
