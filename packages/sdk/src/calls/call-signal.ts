import { z } from "zod";

/** Largest SDP accepted in a signal (a real audio+video offer is 3–8 KB). */
const MAX_SDP_CHARS = 30_000;

const DeviceId = z.string().min(1).max(64);
const Sdp = z.string().min(1).max(MAX_SDP_CHARS);

export const IceCandidateWire = z.object({
  candidate: z.string().max(1024),
  sdpMid: z.string().max(64).nullable(),
  sdpMLineIndex: z.number().int().min(0).max(64).nullable(),
});
export type IceCandidateWire = z.infer<typeof IceCandidateWire>;

/**
 * One call-signalling step. Signals travel as transient MLS messages in the chat's group, so every
 * member device sees them; `to` names the one device a step is meant for once a callee device has
 * answered (the others ignore it). The caller always makes the offers, so offers never collide.
 */
/** A Sori user's phone line at a gateway: the owner's user id and the line's random id. */
export const PhoneLineRef = z.object({
  owner: z.string().min(1).max(64),
  id: z.string().min(8).max(64),
});
export type PhoneLineRef = z.infer<typeof PhoneLineRef>;

/**
 * A call a gateway bridges from another network: who is really on the line there. Shown with the
 * gateway's own name, and as not end-to-end encrypted (only the leg between Sori devices is).
 */
export const ForeignParty = z.object({
  network: z.literal("sip"),
  /** The caller's or callee's address there, e.g. "sip:carol@example.net". */
  uri: z.string().min(1).max(256),
  /** The display name the other network gave, if any. */
  name: z.string().max(128).optional(),
  /**
   * The phone is a Sori user's own phone line hosted by the gateway (sori sip-phone add): whose, and
   * which. The receiving device keeps it only when that user's own profile lists this line at this
   * gateway; otherwise the call shows as an ordinary phone call.
   */
  line: PhoneLineRef.optional(),
});
export type ForeignParty = z.infer<typeof ForeignParty>;

export const CallSignal = z.discriminatedUnion("kind", [
  /** Caller → every device of the callee: rings, and carries the caller's offer. */
  z.object({
    kind: z.literal("ring"),
    media: z.enum(["audio", "video"]),
    sdp: Sdp,
    /** Set by a gateway: the call comes from a phone (or another network) through it. */
    via: ForeignParty.optional(),
    /**
     * Set by a caller ringing the callee's own phone lines at a gateway (besides the callee's devices,
     * in the caller's chat with the gateway): the gateway rings the phones registered for them.
     */
    lines: z.array(PhoneLineRef).min(1).max(5).optional(),
  }),
  /**
   * Callee device → caller device: taken on this device; carries the answer. A gateway that rang a
   * phone line says which phone took it (`via`).
   */
  z.object({ kind: z.literal("accept"), to: DeviceId, sdp: Sdp, via: ForeignParty.optional() }),
  /**
   * Gateway's callee device → caller device, before it answers: the other network plays audio of its
   * own before answering (SIP 183 Session Progress with SDP: ringback, "the number you dialled…"),
   * carried by this answer while the call keeps ringing. The caller hears it and sends nothing until
   * `accept` (which repeats this answer). Taken only from a gateway, in a call that is not forked.
   */
  z.object({ kind: z.literal("early"), to: DeviceId, sdp: Sdp }),
  /** Caller → answering device: a new offer (ICE restart, renegotiation). */
  z.object({ kind: z.literal("offer"), to: DeviceId, sdp: Sdp }),
  /** Answering device → caller: the answer to `offer`. */
  z.object({ kind: z.literal("answer"), to: DeviceId, sdp: Sdp }),
  /** Answering device → caller: please make a new offer (the callee never offers itself). */
  z.object({ kind: z.literal("renegotiate"), to: DeviceId, iceRestart: z.boolean() }),
  /** Trickled ICE candidates; without `to` (the caller's, while ringing) for every callee device. */
  z.object({
    kind: z.literal("candidates"),
    to: DeviceId.optional(),
    candidates: z.array(IceCandidateWire).min(1).max(64),
  }),
  /**
   * Callee device → caller: declined (the callee's other devices stop ringing too). A gateway says
   * `unreachable` when the phone number or address it called could not be reached.
   */
  z.object({ kind: z.literal("decline"), to: DeviceId, reason: z.literal("unreachable").optional() }),
  /** Callee device → caller: already in another call. */
  z.object({ kind: z.literal("busy"), to: DeviceId }),
  /**
   * Caller → everyone: stopped ringing (gave up, or no answer in time). "answered-elsewhere": the
   * callee took the call on a phone line at a gateway, or on a device while that line rang.
   */
  z.object({
    kind: z.literal("cancel"),
    reason: z.enum(["cancelled", "no-answer", "busy", "declined", "answered-elsewhere"]),
  }),
  /**
   * Either side → the other: the call is over. With "answered-elsewhere" (caller → a callee device that
   * accepted a moment after another one did) that device was never in the call.
   */
  z.object({ kind: z.literal("hangup"), to: DeviceId, reason: z.literal("answered-elsewhere").optional() }),
  /**
   * Either side → the other: its microphone and camera state, and `held` while it holds the call
   * (a gateway's phone put it on hold), for the other's UI. A gateway sets `holdFailed` when it could
   * not pass the other side's last hold or resume on to the phone (the phone refused the re-INVITE).
   */
  z.object({
    kind: z.literal("media"),
    to: DeviceId,
    audio: z.boolean(),
    video: z.boolean(),
    held: z.boolean().optional(),
    holdFailed: z.boolean().optional(),
  }),
]);
export type CallSignal = z.infer<typeof CallSignal>;

/** How a call ended, as recorded in chat history by the caller's device. */
const CALL_OUTCOMES = ["answered", "declined", "busy", "no-answer", "cancelled", "failed"] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** The call-log content: one durable chat entry per call, sent by the caller's device when it ends. */
export const CallLogBody = z.object({
  callId: z.string().min(1).max(64),
  media: z.enum(["audio", "video"]),
  outcome: z.enum(CALL_OUTCOMES),
  durationS: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400),
  startedAt: z.number(),
});
export type CallLogBody = z.infer<typeof CallLogBody>;
