/** Every error the server sends, on HTTP or WebSocket, carries one of these codes. */
export const ERROR_CODES = [
  "bad-request",
  "bad-frame",
  "too-large",
  "unauthenticated",
  "auth-failed",
  "forbidden",
  "not-found",
  "not-member",
  "username-taken",
  "stale-epoch",
  "group-outdated",
  "group-exists",
  "rate-limited",
  "too-many-connections",
  "client-too-old",
  "server-too-old",
  "storage-unavailable",
  /** This device waits for another device of the account to approve it (or for an identity reset). */
  "approval-required",
  "too-many-devices",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Extra facts an error carries so a client can act on it (e.g. catch up, add missing devices). */
export type ErrorDetails = {
  /** stale-epoch: the group's current epoch. */
  epoch?: number;
  /** group-outdated: devices of member users that are not in the group yet. */
  missingDevices?: string[];
  /** group-outdated: revoked devices still in the group. */
  revokedDevices?: string[];
  /** rate-limited: seconds until a retry can succeed. */
  retryAfterS?: number;
  /** too-large: the limit that was exceeded, in bytes (storage-unavailable: the server's cap on files). */
  limit?: number;
  /** too-large for an attachment over the account's quota: bytes of files the account stores already. */
  stored?: number;
  /** A blob upload at the wrong offset: where it must continue. */
  received?: number;
  /** identity-changed (SDK): the users whose account key changed and is not acknowledged yet. */
  userIds?: string[];
  /** forbidden by a gateway (SDK): why, in the gateway's own words. */
  reason?: string;
};

/** A typed protocol error; thrown by parsers and by the server core, serialised as an `error` frame. */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
    this.details = details;
  }
}

/** HTTP status for each error code, used by the HTTP API. */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case "bad-request":
    case "bad-frame":
    case "client-too-old":
    case "server-too-old":
      return 400;
    case "unauthenticated":
    case "auth-failed":
      return 401;
    case "forbidden":
    case "not-member":
    case "approval-required":
      return 403;
    case "not-found":
      return 404;
    case "username-taken":
    case "too-many-devices":
    case "stale-epoch":
    case "group-outdated":
    case "group-exists":
      return 409;
    case "too-large":
      return 413;
    case "rate-limited":
    case "too-many-connections":
      return 429;
    case "storage-unavailable":
      return 503;
    case "internal":
      return 500;
  }
}
