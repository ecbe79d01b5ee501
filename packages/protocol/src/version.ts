/** Wire protocol version: bumped on any incompatible change to a frame. Clients send it in `auth`. */
export const PROTOCOL_VERSION = 1;

/** Raised (never lowered) whenever a compatible feature is added; recorded in docs/PROTOCOL-CHANGELOG.md. */
export const FEATURE_LEVEL = 2;
