import { randomInt } from "node:crypto";
import type { Logger } from "@sori/server";
import type { Bridged } from "./bridged.ts";
import {
  answerDirection,
  isNullAddress,
  type MediaDirection,
  type PhoneMedia,
  type RelayCodec,
  readPhoneSdp,
  receives,
  reviseSdp,
  SdpError,
} from "./media/phone-sdp.ts";
import type { SipRequest } from "./sip/sip-message.ts";
import type { ServerTransaction } from "./sip/transactions.ts";

/** How long the ACK carrying the phone's answer to an offer in a 200 is waited for (64·T1, timer H). */
const OFFER_ANSWER_MS = 32_000;

/** What the re-INVITE handling needs from the gateway around it. */
export type ReinviteDeps = {
  log: Logger;
  mediaAddress: string;
  contactHeader(b: Bridged): [string, string][];
  /** Ends a dialog whose media cannot go on (BYE to the phone, hang-up on the Sori side). */
  hangUp(b: Bridged): void;
};

export type Reinvites = {
  reinvite(tx: ServerTransaction, b: Bridged | undefined): void;
  ack(req: SipRequest, b: Bridged | undefined): void;
  /**
   * The gateway's own offer for a re-INVITE (the Sori side holds or resumes, sori-hold.ts): the
   * call's SDP with `direction`, its o= version raised, now the dialog's; and the SDP it replaces,
   * which a refused re-INVITE puts back (RFC 3261 §14.1). Undefined if the call has no codec yet.
   */
  offer(b: Bridged, direction: MediaDirection): { sdp: string; previous: string } | undefined;
  /**
   * The phone's answer to that offer, taken into the call; false when the call cannot carry it (it is
   * then hung up: an answer cannot be refused).
   */
  answered(b: Bridged, body: string): boolean;
};

/** A phone's new session description for a call in progress, checked against what the call can carry. */
type SessionUpdate =
  | { refused: string }
  | { media: PhoneMedia; codec: RelayCodec; telephoneEvent: number | undefined; direction: MediaDirection };

/**
 * Re-INVITEs from the phone inside an established dialog (RFC 3261 §14.2): hold and resume (the
 * answer mirrors the phone's direction, RFC 3264 §8.4), a new address or port (the RTP leg moves),
 * session refreshes (the same answer, the same o= version). The Sori leg was negotiated once for one
 * codec, so an offer without it is refused (488) and the call goes on as it was.
 */
export function createReinvites(d: ReinviteDeps): Reinvites {
  function reinvite(tx: ServerTransaction, b: Bridged | undefined): void {
    const req = tx.request;
    if (!b) return tx.respond(481);
    if (b.state === "ringing") {
      // The phone's own INVITE is still unanswered (RFC 3261 §14.2: 500 with Retry-After), or
      // the gateway's INVITE to the phone is (491).
      if (b.invite) return tx.respond(500, { headers: [["Retry-After", String(randomInt(0, 11))]] });
      return tx.respond(491);
    }
    // A late or reordered INVITE must not undo a newer one (RFC 3261 §12.2.2).
    if (b.remoteSeq !== undefined && req.cseq.seq <= b.remoteSeq)
      return tx.respond(500, { headers: [["Warning", '399 sori "CSeq out of order"']] });
    // An offer of ours waits for its answer in an ACK, or the gateway's own re-INVITE is under way: a
    // new offer now would cross it (RFC 3261 §14.2).
    if (b.pendingOffer && Date.now() < b.pendingOffer.until) return tx.respond(491);
    if (b.soriHold.inFlight) return tx.respond(491);
    b.pendingOffer = undefined;
    b.remoteSeq = req.cseq.seq;
    const headers = d.contactHeader(b);
    const codec = codecInUse(b);
    if (!codec || !b.sdp) return tx.respond(500);
    if (req.body.trim() === "") {
      // No offer: the gateway offers what the call has, sending both ways; the answer comes in the ACK.
      b.sdp = reviseSdp(b.sdp, ours(b, codec, b.leg.phoneTelephoneEvent, withSoriHold(b, "sendrecv")));
      b.pendingOffer = { seq: req.cseq.seq, until: Date.now() + OFFER_ANSWER_MS };
      b.soriHold.told = b.soriHold.wanted;
      return tx.respond(200, { headers, body: b.sdp });
    }
    const update = readUpdate(req.body, b, codec);
    if ("refused" in update) {
      d.log.info("sip-reinvite-refused", { callId: b.callId });
      return tx.respond(488, { headers: [["Warning", `305 sori "${update.refused}"`]] });
    }
    apply(b, update, true);
    const direction = withSoriHold(b, answerDirection(update.direction));
    b.sdp = reviseSdp(b.sdp, ours(b, update.codec, update.telephoneEvent, direction));
    // The answer says the Sori side's hold too: the phone knows it now.
    b.soriHold.told = b.soriHold.wanted;
    tx.respond(200, { headers, body: b.sdp });
  }

  /** The ACK of a 200 whose offer was the gateway's carries the phone's answer. */
  function ack(req: SipRequest, b: Bridged | undefined): void {
    if (!b || b.state !== "connected" || b.pendingOffer?.seq !== req.cseq.seq) return;
    b.pendingOffer = undefined;
    const codec = codecInUse(b);
    // An ACK without an answer leaves the session as it was before the re-INVITE.
    if (req.body.trim() === "" || !codec) return d.log.info("sip-reinvite-unanswered", { callId: b.callId });
    const update = readUpdate(req.body, b, codec);
    if ("refused" in update) {
      // An answer cannot be refused (there is no response to an ACK): the media cannot go on.
      d.log.warn("sip-reinvite-bad-answer", { callId: b.callId });
      return d.hangUp(b);
    }
    apply(b, update, true);
  }

  /**
   * Takes the phone's new description into the call: where its RTP goes, which way, DTMF, and (for
   * the phone's own offers, `mirrorHold`) its hold, which the Sori side is told of.
   */
  function apply(b: Bridged, u: Extract<SessionUpdate, { media: PhoneMedia }>, mirrorHold: boolean): void {
    const old = b.media;
    // Old phones hold with c=0.0.0.0: nothing is sent then, and the address stays where it was.
    const media = isNullAddress(u.media.address)
      ? { ...u.media, address: old.address, port: old.port }
      : u.media;
    if (media.address !== old.address || media.port !== old.port) {
      b.leg.rtp.moveTo({ address: media.address, port: media.port });
      d.log.info("sip-media-moved", { callId: b.callId });
    }
    b.media = media;
    b.leg.phonePayloadType = u.codec.payloadType;
    b.leg.phoneTelephoneEvent = u.telephoneEvent;
    b.leg.phoneDirection = u.direction;
    const held = !receives(u.direction);
    // An answer to the gateway's hold offer may be inactive: that is the Sori side's hold, not the phone's.
    if (mirrorHold && b.call && b.call.onHold !== held) {
      d.log.info(held ? "sip-call-held" : "sip-call-resumed", { callId: b.callId });
      void b.call.setOnHold(held).catch(() => undefined);
    }
  }

  /** The gateway's description for the call as it now is. */
  function ours(
    b: Bridged,
    codec: RelayCodec,
    telephoneEvent: number | undefined,
    direction: MediaDirection,
  ): Parameters<typeof reviseSdp>[1] {
    return { address: d.mediaAddress, port: b.leg.rtp.port, codecs: [codec], telephoneEvent, direction };
  }

  return {
    reinvite,
    ack,
    offer(b, direction) {
      const codec = codecInUse(b);
      if (!codec || !b.sdp) return undefined;
      const previous = b.sdp;
      b.sdp = reviseSdp(b.sdp, ours(b, codec, b.leg.phoneTelephoneEvent, direction));
      return { sdp: b.sdp, previous };
    },
    answered(b, body) {
      const codec = codecInUse(b);
      const update = codec ? readUpdate(body, b, codec) : { refused: "no codec" };
      if ("refused" in update) {
        d.log.warn("sip-reinvite-bad-answer", { callId: b.callId });
        d.hangUp(b);
        return false;
      }
      apply(b, update, false);
      return true;
    },
  };
}

/** The gateway's direction with the Sori side's hold in it: while held, the gateway receives nothing. */
function withSoriHold(b: Bridged, direction: MediaDirection): MediaDirection {
  if (!b.soriHold.wanted) return direction;
  return direction === "sendrecv" ? "sendonly" : direction === "recvonly" ? "inactive" : direction;
}

/** The codec the call carries, in the phone's numbering. */
function codecInUse(b: Bridged): RelayCodec | undefined {
  return b.media.codecs.find((c) => c.payloadType === b.leg.phonePayloadType);
}

/** Reads a phone's new offer (or answer) against the call: its codec must still be there. */
function readUpdate(body: string, b: Bridged, codec: RelayCodec): SessionUpdate {
  let media: PhoneMedia;
  try {
    media = readPhoneSdp(body);
  } catch (error) {
    return { refused: error instanceof SdpError ? error.message : "the SDP could not be read" };
  }
  const same = media.codecs.find(
    (c) =>
      c.name.toLowerCase() === codec.name.toLowerCase() &&
      c.clockRate === codec.clockRate &&
      c.channels === codec.channels,
  );
  if (!same)
    return {
      refused: `the call carries ${codec.name}/${codec.clockRate} and cannot change codec; offered ${media.offered.join(", ") || "none"}`,
    };
  // DTMF only where both legs agreed to it when the call began (the Sori side is not asked again).
  const telephoneEvent = b.leg.telephoneEvent !== undefined ? media.telephoneEvent : undefined;
  return { media, codec: same, telephoneEvent, direction: media.direction };
}
