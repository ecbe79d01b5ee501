import { z } from "zod";
import { Bytes, Id, Password, Username } from "./schema-parts.ts";

/**
 * The device half of register/login: its name and MLS signature key. The device becomes active (visible
 * to others, addable to chats) once it uploads KeyPackages made with its server-assigned identity.
 */
export const DeviceUpload = z.object({
  name: z.string().min(1).max(64),
  signatureKey: Bytes,
});
export type DeviceUpload = z.infer<typeof DeviceUpload>;

/** POST /api/v1/register and POST /api/v1/login (login adds a new device to an existing account). */
export const AuthRequest = z.object({
  username: Username,
  password: Password,
  device: DeviceUpload,
});
export type AuthRequest = z.infer<typeof AuthRequest>;

/** Response to register and login. The token authenticates this device only. */
export type AuthResponse = {
  userId: string;
  username: string;
  deviceId: string;
  token: string;
};

/** GET /api/v1/devices */
export type DeviceListResponse = {
  devices: {
    deviceId: string;
    name: string;
    createdAt: number;
    lastSeenAt: number | null;
    current: boolean;
  }[];
};

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

/** POST /api/v1/links/claim: a new device joins the account of the device that showed `code`. */
export const LinkClaimRequest = z.object({ code: z.string().min(4).max(64), device: DeviceUpload }).strict();
export type LinkClaimRequest = z.infer<typeof LinkClaimRequest>;
/** POST /api/v1/links (bearer): a fresh single-use code, valid until `expiresAt` (ms). */
export type LinkCreateResponse = { code: string; expiresAt: number };
