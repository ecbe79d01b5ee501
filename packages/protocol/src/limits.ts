/** Defaults the server enforces and clients respect; the server may be configured tighter or looser. */
export const DEFAULT_LIMITS = {
  /** Largest WebSocket frame or HTTP body the server reads, in bytes. */
  maxFrameBytes: 1024 * 1024,
  /** Largest MLS application message (ciphertext) in one `send`. */
  maxMessageBytes: 64 * 1024,
  /** KeyPackage claims per account per minute. */
  keyPackageClaimsPerMinute: 120,
  /**
   * One-time KeyPackages one account may take of one device of another account per hour; beyond it
   * `kp.claim` answers with that device's last-resort KeyPackage (reusable), so a stranger cannot
   * drain a device's one-time ones while adding it keeps working.
   */
  keyPackageClaimsPerPairPerHour: 10,
  /**
   * Names and user ids looked up in the directory (`dir.users`) per account per minute, and ten times
   * that per address; beyond it `rate-limited` with `retryAfterS`. At least 200: one request's most.
   */
  directoryLookupsPerMinute: 600,
  /** Failed and successful login attempts per username per minute. */
  loginAttemptsPerMinute: 10,
  /** Registrations per remote address per minute. */
  registrationsPerMinute: 20,
  /**
   * Messages (`send`) per device per minute, as a token bucket: a burst of a quarter of this, refilled
   * evenly. Beyond it `send` answers `rate-limited` with `retryAfterS`.
   */
  messagesPerMinute: 1200,
  /**
   * WebSocket connections from one address that have not authenticated yet (each is closed after the
   * auth timeout); beyond it the upgrade is answered 429.
   */
  unauthenticatedPerAddress: 128,
  /** Simultaneous WebSocket connections per account. */
  connectionsPerAccount: 16,
  /** Devices one account may have signed in (approved or waiting for approval). */
  devicesPerAccount: 10,
  /** KeyPackages one device may have stored on the server. */
  maxKeyPackagesPerDevice: 200,
  /** Requests one connection may have in progress at once; beyond it `rate-limited` (retry in 1 s). */
  requestsInFlight: 64,
  /** Unacknowledged deliveries the server pushes to one connection before waiting for an ack. */
  deliveryWindow: 256,
} as const;

export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };

/**
 * The longest disappearing-message timer, in seconds (a week). The server keeps no disappearing
 * message, nor its attachments, longer than this after it was sent.
 */
export const MAX_DISAPPEARING_TIMER_S = 7 * 24 * 3600;

/** A client refills its KeyPackages on the server when fewer than this many one-time ones are left. */
export const KEY_PACKAGE_LOW_WATER = 10;
/** How many KeyPackages a client uploads in one go. */
export const KEY_PACKAGE_BATCH = 50;

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
/** Usernames: letters, digits, '_', '.', '-'; compared case-insensitively. */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;
const NAMESPACE = "[a-z][a-z0-9-]{1,15}";
/**
 * A bridged identity's username (feature level 6): the namespace of the gateway that owns it, a colon,
 * then the address on the other network (`xmpp:juliet@example.org`). Plain usernames cannot hold a
 * colon, so no account can pass for a bridged one or the other way round. No spaces, controls, quotes
 * or angle brackets, so the address is safe to show and to put into XML and URIs.
 */
export const BRIDGED_USERNAME_PATTERN = new RegExp(`^(${NAMESPACE}):([^\\s\\p{Cc}"'<>&\\\\]{1,256})$`, "u");
/** A bridge namespace on its own (the part of a bridged username before the colon). */
export const BRIDGE_NAMESPACE_PATTERN = new RegExp(`^${NAMESPACE}$`);
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;
