import { createHmac } from "node:crypto";
import type { WireResultOf } from "@sori/protocol";

/** A TURN server (coturn) that shares `secret` with Sori: `--use-auth-secret --static-auth-secret`. */
export type TurnConfig = {
  secret: string;
  /** turn:/turns: URLs handed to clients, e.g. "turn:turn.example.org:3478?transport=udp". */
  urls: string[];
  /** How long issued credentials stay valid. */
  ttlS: number;
};

/**
 * Default lifetime of issued TURN credentials: an hour. They cannot be revoked (coturn only checks the
 * HMAC and the expiry), so this is how long a signed-out device may still open relays. coturn checks
 * the expiry when an allocation is made, not when it is refreshed, so a call keeps the relay it got in
 * time however long it lasts; only a new allocation after the expiry (an ICE restart late in a long
 * call) needs fresh credentials. docs/OPERATING.md has the whole trade-off.
 */
export const DEFAULT_TURN_TTL_S = 3600;

/**
 * Time-limited credentials in coturn's REST scheme ("TURN REST API"): the username is
 * `${expiry}:${userId}` and the password base64(HMAC-SHA1(secret, username)); coturn recomputes it
 * and refuses it after `expiry` (unix seconds). Without TURN configured the list is empty and clients
 * use host and STUN candidates only.
 */
export function turnCredentials(
  turn: TurnConfig | undefined,
  userId: string,
  nowMs: number,
): WireResultOf<"turn.credentials"> {
  if (!turn || turn.urls.length === 0) return { iceServers: [], ttlS: 0 };
  const username = `${Math.floor(nowMs / 1000) + turn.ttlS}:${userId}`;
  const credential = createHmac("sha1", turn.secret).update(username).digest("base64");
  return { iceServers: [{ urls: [...turn.urls], username, credential }], ttlS: turn.ttlS };
}
