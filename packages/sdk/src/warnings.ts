import type { Delivery } from "@sori/protocol";

type DeliveryKind = Delivery["kind"];

/**
 * What a `warning` event can report: a problem the client handled but a person (or an operator reading
 * logs) may want to know about. Messages never contain content or keys.
 */
export type WarningCode =
  /** A message an earlier run left "sending" could not be sent again. */
  | "resend-failed"
  | "kp-refill-failed"
  | "read-receipt-failed"
  | "expiry-failed"
  /** Someone other than the author tried to edit or delete a message. */
  | "forged-change"
  /** The server's claimed sender differs from the MLS-authenticated one. */
  | "sender-mismatch"
  /** Updating a chat's devices (or another follow-up task) failed. */
  | "reconcile-failed"
  /** A delivery could not be processed yet and will be retried. */
  | `${DeliveryKind}-delayed`
  /** A delivery could not be processed and was dropped. */
  | `${DeliveryKind}-failed`
  /** The server offered a device (KeyPackage) that its user's account did not sign in. */
  | "device-refused"
  /** The server names another account key for this user than this device's own. */
  | "own-identity-mismatch"
  /** This device could not get back into a chat it fell out of. */
  | "rejoin-failed"
  | "approval-failed"
  /** The server pushed this device's queue out of order. */
  | "queue-reordered"
  | "call-signal-invalid"
  | "call-signal-ignored"
  | "call-log-failed"
  | "call-signal-lost"
  | "call-failed"
  | "call-renegotiation-failed"
  /** A removed phone line's gateway could not be told (the line is out of the profile anyway). */
  | "phone-line-not-revoked"
  /** A profile change (name, photo, phone lines) did not reach some chats. */
  | "profile-share-failed"
  /** The callee's phone line could not be rung (its gateway's chat could not be reached). */
  | "call-line-unreachable";

/** The payload of the `warning` event. */
export type ClientWarning = { code: WarningCode; message: string };
