import type { Logger } from "@sori/server";
import type { Bridged } from "./bridged.ts";
import type { BridgePlatform } from "./media/bridge-platform.ts";
import { type PhoneMedia, type RelayCodec, readPhoneSdp } from "./media/phone-sdp.ts";
import type { SipResponse } from "./sip/sip-message.ts";

/** How the phone's answers to the gateway's INVITE (calls out) reach its phone leg. */
export type PhoneAnswers = {
  /**
   * A 180/183 to the gateway's INVITE. With SDP the phone (or a trunk's media server) plays early
   * media (RFC 3960: ringback, "the number you dialled…"): the Sori leg is answered at once as early
   * media, so the caller hears it while the call still rings. Without SDP it is plain ringing.
   */
  provisional(b: Bridged, r: SipResponse): void;
  /**
   * The phone's 200: its SDP decides where the leg sends and what it takes from now on (without
   * 100rel a 183's SDP is only a preview, RFC 3261 §13.2.1, and a 200 from another fork has its own).
   * The codec, or why the call cannot go on: no codec both legs can take, or after early media a
   * codec other than the one the Sori leg was answered with (the relay does not transcode).
   */
  final(
    b: Bridged,
    r: SipResponse,
  ): Promise<{ codec: RelayCodec } | { refused: "no-codec" | "codec-changed" }>;
};

const sameCodec = (a: RelayCodec, b: RelayCodec): boolean => a.name.toLowerCase() === b.name.toLowerCase();

export function phoneAnswers(o: { log: Logger; bridge: BridgePlatform }): PhoneAnswers {
  const { log, bridge } = o;

  /** The phone's first choice among what the Sori leg offers (or, once it has media, was answered with). */
  const pick = (b: Bridged, media: PhoneMedia): { picked: RelayCodec; chosen: RelayCodec } | undefined => {
    const picked = media.codecs[0];
    const chosen = picked && b.leg.codecs.find((c) => sameCodec(c, picked));
    return picked && chosen ? { picked, chosen } : undefined;
  };

  /**
   * Points the phone leg at `media`. The first time it latches anew (its SDP's address, or the SIP
   * source's behind NAT); a later answer that moves the media (the 200 after a 183, or another
   * fork) moves it as a re-INVITE would: the source it was latched to is refused from then on.
   */
  const point = (b: Bridged, media: PhoneMedia, first: boolean): boolean => {
    const moved = media.address !== b.media.address || media.port !== b.media.port;
    const peer = { address: media.address, port: media.port };
    if (first) b.leg.rtp.connect(peer, b.phone.address);
    else if (moved) b.leg.rtp.moveTo(peer);
    return moved && !first;
  };

  /** The leg takes `codec` at the phone's number for it, and DTMF if both legs can carry it. */
  const take = (b: Bridged, media: PhoneMedia, found: { picked: RelayCodec; chosen: RelayCodec }): void => {
    const { leg } = b;
    const soriLegMade = b.early !== undefined;
    b.media = media;
    leg.codecs = [found.chosen];
    leg.phonePayloadType = found.picked.payloadType;
    leg.phoneDirection = media.direction;
    // DTMF for G.711/G.722 calls only: telephone-event/8000 beside Opus's 48 kHz clock is not relayed.
    const events = found.chosen.mimeType !== "audio/opus" && leg.telephoneEvent !== undefined;
    leg.phoneTelephoneEvent = events ? media.telephoneEvent : undefined;
    // Without the phone's agreement werift's answer leaves it out, so the caller's browser knows.
    // (Once the Sori leg is answered, a 200 that drops it only stops the relay of events.)
    if (!soriLegMade && leg.phoneTelephoneEvent === undefined) leg.telephoneEvent = undefined;
  };

  return {
    provisional(b, r) {
      const call = b.call;
      if (r.status === 100 || b.state !== "ringing" || !call || call.state !== "ringing-in") return;
      let media: PhoneMedia;
      try {
        media = readPhoneSdp(r.body);
      } catch {
        // No SDP (or none to read): plain ringing, which the Sori caller hears as its own ringback.
        return;
      }
      const toTag = r.to.params.tag ?? "";
      const found = pick(b, media);
      if (!found) {
        log.info("sip-call-out-early-ignored", { callId: b.callId, status: r.status, reason: "codec" });
        return;
      }
      if (b.early) {
        // Another fork's early media, or the same one's SDP again: the newest plays, on the same codec.
        b.leg.phonePayloadType = found.picked.payloadType;
        const moved = point(b, media, false);
        b.media = media;
        if (moved || toTag !== b.early.toTag)
          log.info("sip-call-out-early-media", {
            callId: b.callId,
            status: r.status,
            moved,
            fork: toTag !== b.early.toTag,
          });
        b.early.toTag = toTag;
        return;
      }
      point(b, media, true);
      take(b, media, found);
      b.leg.early = true;
      bridge.bind(call.id, b.leg);
      b.early = { toTag, codec: found.chosen, ready: call.earlyMedia() };
      log.info("sip-call-out-early-media", { callId: b.callId, status: r.status, codec: found.chosen.name });
    },

    async final(b, r) {
      const early = b.early;
      // The Sori leg's early answer is made before it is told the call is taken.
      if (early) await early.ready;
      let media: PhoneMedia;
      try {
        media = readPhoneSdp(r.body);
      } catch {
        // A 200 without (readable) SDP keeps what the 183 said, or what the gateway offered.
        media = { ...b.media };
      }
      const found = pick(b, media);
      if (!found) return { refused: early ? "codec-changed" : "no-codec" };
      const moved = point(b, media, !early);
      take(b, media, found);
      b.leg.early = false;
      if (early)
        log.info("sip-call-out-early-answered", {
          callId: b.callId,
          moved,
          fork: (r.to.params.tag ?? "") !== early.toTag,
        });
      return { codec: found.chosen };
    },
  };
}
