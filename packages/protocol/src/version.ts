/** Wire protocol version: bumped on any incompatible change to a frame. Clients send it in `auth`. */
export const PROTOCOL_VERSION = 2;

/** Raised (never lowered) whenever a compatible feature is added; recorded in docs/PROTOCOL-CHANGELOG.md. */
export const FEATURE_LEVEL = 7;

/** The first feature level whose servers accept an `ack` without `id` (and do not answer it). */
export const UNANSWERED_ACK_LEVEL = 3;

/** The first feature level whose servers take push subscriptions and `send.wake` (Web Push). */
export const PUSH_LEVEL = 7;
