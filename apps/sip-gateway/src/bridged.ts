import type { Call } from "@sori/sdk";
import type { BridgeLeg } from "./media/bridge-platform.ts";
import type { PhoneMedia, RelayCodec } from "./media/phone-sdp.ts";
import type { SipSource } from "./sip/sip-format.ts";
import type { ServerTransaction } from "./sip/transactions.ts";

/** One phone call through the gateway: the SIP dialog and the Sori call it is bridged to. */
export type Bridged = {
  /** "in": the phone called; "out": a Sori user called the phone. */
  direction: "in" | "out";
  callId: string;
  localTag: string;
  remoteTag: string;
  /** The phone's INVITE (calls in). */
  invite: ServerTransaction | undefined;
  /** The gateway's INVITE (calls out): what a CANCEL and the ACK repeat. */
  outgoing: { branch: string; uri: string; to: string; seq: number } | undefined;
  phone: SipSource;
  /** Both ends of the dialog as From/To values with their tags, and where in-dialog requests go. */
  remoteUri: string;
  localUri: string;
  target: string;
  /** The phone line this call rings or comes from, if it is someone's own phone. */
  lineId: string | undefined;
  leg: BridgeLeg;
  media: PhoneMedia;
  call: Call | undefined;
  localSeq: number;
  /** The CSeq of the phone's last INVITE in the dialog: an older one arriving late is refused (500). */
  remoteSeq: number | undefined;
  /**
   * The phone's re-INVITE came without SDP, so the gateway's 200 carried an offer: its CSeq, and
   * until when its ACK (which carries the answer) is waited for; another re-INVITE meanwhile is 491.
   */
  pendingOffer: { seq: number; until: number } | undefined;
  /**
   * Calls out: the phone's early media (a 180/183 with SDP) playing to the Sori caller, with the To
   * tag and codec of the answer that started it and the Sori leg's setup (see early-media.ts).
   */
  early: { toTag: string; codec: RelayCodec; ready: Promise<boolean> } | undefined;
  /**
   * The Sori side's hold as the phone is told it (sori-hold.ts): what the Sori side wants, what the
   * phone last agreed to, whether a re-INVITE of the gateway's is under way (the phone's crossing
   * one gets 491), and the timer of a retry after a 491.
   */
  soriHold: { wanted: boolean; told: boolean; inFlight: boolean; cancelRetry: (() => void) | undefined };
  state: "ringing" | "connected" | "ended";
  sdp: string | undefined;
  rtpWatch: ReturnType<typeof setInterval> | undefined;
};
