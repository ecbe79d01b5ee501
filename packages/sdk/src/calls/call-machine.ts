/**
 * The call state machine, free of I/O: inputs (local actions, remote signals, ICE state, timers) go in,
 * the next state and the effects to carry out come out. `Call` executes the effects.
 */

export type CallState =
  | "ringing-out"
  /**
   * Caller side, still unanswered: the other network plays its own audio (ringback, an announcement)
   * through a gateway (SIP 183 Session Progress). Heard here; nothing of this side is sent until answered.
   */
  | "early-media"
  | "ringing-in"
  | "connecting"
  | "connected"
  | "reconnecting"
  | "ended";

export type CallEndReason =
  /** This side hung up after answering. */
  | "hangup"
  | "remote-hangup"
  /** The callee declined (on the caller), or this device declined (on the callee). */
  | "declined"
  | "busy"
  /** Nobody answered in time (caller side). */
  | "no-answer"
  /** The caller stopped ringing before anyone answered (caller side). */
  | "cancelled"
  /** The callee side of an unanswered call. */
  | "missed"
  /** Another device of this user answered. */
  | "answered-elsewhere"
  /** Another device of this user declined. */
  | "declined-elsewhere"
  /** No media path could be (re)established, or setup failed. */
  | "failed"
  /** A gateway could not reach the phone number or address called (it does not exist, or is off). */
  | "unreachable";

export type CallDirection = "outgoing" | "incoming";

export type MachineState = {
  state: CallState;
  direction: CallDirection;
  endReason: CallEndReason | null;
  connectedAt: number | null;
  /** ICE restarts made in the current reconnection attempt (the caller's budget). */
  restarts: number;
};

export type CallInput =
  | { type: "local-accept" }
  /** `busy`: this side is in another call; `unreachable`: a gateway could not reach the other network's party. */
  | { type: "local-decline"; reason?: "busy" | "unreachable" }
  | { type: "local-hangup" }
  | { type: "remote-accept" }
  /** A gateway's callee side plays the other network's early media (the caller keeps ringing). */
  | { type: "remote-early" }
  | { type: "remote-decline"; unreachable?: boolean }
  | { type: "remote-busy" }
  | { type: "remote-cancel" }
  | { type: "remote-hangup" }
  | { type: "answered-elsewhere" }
  | { type: "declined-elsewhere" }
  /** Caller: nobody answered in time. Callee: the ring expired without a cancel. */
  | { type: "ring-timeout" }
  | { type: "ice"; state: string; now: number }
  /** The reconnect watchdog fired and the call is still not connected. */
  | { type: "reconnect-timer" }
  /** Setting up media or applying a description failed. */
  | { type: "fatal" };

export type CallEffect =
  | { type: "send"; signal: "decline" | "busy" | "hangup"; unreachable?: boolean }
  | { type: "send-cancel"; reason: "cancelled" | "no-answer" | "busy" }
  | { type: "restart-ice" }
  | { type: "arm-reconnect-timer"; ms: number }
  | { type: "clear-reconnect-timer" }
  | { type: "teardown" };

export type CallTimings = {
  /** How long "disconnected" may last before the caller restarts ICE (it often recovers alone). */
  disconnectedGraceMs: number;
  /** How long one connection attempt (initial or after an ICE restart) may take. */
  attemptMs: number;
  /** ICE restarts the caller tries before giving up. */
  maxRestarts: number;
  /** How long the callee waits for the caller to restore a lost connection. */
  calleeWaitMs: number;
};

export const DEFAULT_TIMINGS: CallTimings = {
  disconnectedGraceMs: 1500,
  attemptMs: 10_000,
  maxRestarts: 5,
  calleeWaitMs: 60_000,
};

export function initialState(direction: CallDirection): MachineState {
  return {
    state: direction === "outgoing" ? "ringing-out" : "ringing-in",
    direction,
    endReason: null,
    connectedAt: null,
    restarts: 0,
  };
}

type Step = { next: MachineState; effects: CallEffect[] };

const end = (s: MachineState, reason: CallEndReason, effects: CallEffect[] = []): Step => ({
  next: { ...s, state: "ended", endReason: reason },
  effects: [...effects, { type: "teardown" }],
});

/** The caller's call is not answered yet: ringing, with or without early media. */
export function ringingOut(state: CallState): boolean {
  return state === "ringing-out" || state === "early-media";
}

/** One transition. Inputs that make no sense in the current state change nothing. */
export function transition(s: MachineState, input: CallInput, t: CallTimings = DEFAULT_TIMINGS): Step {
  const same: Step = { next: s, effects: [] };
  if (s.state === "ended") return same;
  const caller = s.direction === "outgoing";
  const unanswered = ringingOut(s.state);
  switch (input.type) {
    case "local-accept":
      if (s.state !== "ringing-in") return same;
      return {
        next: { ...s, state: "connecting" },
        effects: [{ type: "arm-reconnect-timer", ms: t.calleeWaitMs }],
      };
    case "local-decline":
      if (s.state !== "ringing-in") return same;
      if (input.reason === "busy") return end(s, "busy", [{ type: "send", signal: "busy" }]);
      if (input.reason === "unreachable")
        return end(s, "unreachable", [{ type: "send", signal: "decline", unreachable: true }]);
      return end(s, "declined", [{ type: "send", signal: "decline" }]);
    case "local-hangup":
      if (unanswered) return end(s, "cancelled", [{ type: "send-cancel", reason: "cancelled" }]);
      if (s.state === "ringing-in") return end(s, "declined", [{ type: "send", signal: "decline" }]);
      return end(s, "hangup", [{ type: "send", signal: "hangup" }]);
    case "remote-accept":
      if (!unanswered) return same;
      return {
        next: { ...s, state: "connecting" },
        effects: [{ type: "arm-reconnect-timer", ms: t.attemptMs }],
      };
    case "remote-early":
      return s.state === "ringing-out" ? { next: { ...s, state: "early-media" }, effects: [] } : same;
    case "remote-decline":
      return unanswered ? end(s, input.unreachable ? "unreachable" : "declined") : same;
    case "remote-busy":
      // The callee's other devices may still ring: stop them.
      return unanswered ? end(s, "busy", [{ type: "send-cancel", reason: "busy" }]) : same;
    case "remote-cancel":
      return s.state === "ringing-in" ? end(s, "missed") : same;
    case "remote-hangup":
      if (s.state === "ringing-in") return end(s, "missed");
      if (unanswered) return same;
      return end(s, "remote-hangup");
    case "answered-elsewhere":
      // Also after accepting here, if the caller took another device's answer that came first.
      return s.state === "ringing-in" || (s.state === "connecting" && s.connectedAt === null)
        ? end(s, "answered-elsewhere")
        : same;
    case "declined-elsewhere":
      return s.state === "ringing-in" ? end(s, "declined-elsewhere") : same;
    case "ring-timeout":
      if (unanswered) return end(s, "no-answer", [{ type: "send-cancel", reason: "no-answer" }]);
      if (s.state === "ringing-in") return end(s, "missed");
      return same;
    case "fatal":
      if (unanswered) return end(s, "failed", [{ type: "send-cancel", reason: "cancelled" }]);
      if (s.state === "ringing-in") return end(s, "failed");
      return end(s, "failed", [{ type: "send", signal: "hangup" }]);
    case "ice":
      return onIce(s, input.state, input.now, t, caller);
    case "reconnect-timer":
      if (s.state !== "connecting" && s.state !== "reconnecting") return same;
      if (caller && s.restarts < t.maxRestarts) {
        return {
          next: {
            ...s,
            state: s.state === "connecting" && s.connectedAt === null ? "connecting" : "reconnecting",
            restarts: s.restarts + 1,
          },
          effects: [{ type: "restart-ice" }, { type: "arm-reconnect-timer", ms: t.attemptMs }],
        };
      }
      return end(s, "failed", [{ type: "send", signal: "hangup" }]);
  }
}

function onIce(s: MachineState, ice: string, now: number, t: CallTimings, caller: boolean): Step {
  const same: Step = { next: s, effects: [] };
  if (s.state === "ringing-in" || ringingOut(s.state)) return same;
  if (ice === "connected" || ice === "completed") {
    if (s.state === "connected") return same;
    return {
      next: { ...s, state: "connected", connectedAt: s.connectedAt ?? now, restarts: 0 },
      effects: [{ type: "clear-reconnect-timer" }],
    };
  }
  if (ice === "disconnected") {
    if (s.state !== "connected") return same;
    return {
      next: { ...s, state: "reconnecting" },
      effects: [{ type: "arm-reconnect-timer", ms: caller ? t.disconnectedGraceMs : t.calleeWaitMs }],
    };
  }
  if (ice === "failed") {
    if (!caller) {
      return s.state === "reconnecting"
        ? same
        : {
            next: { ...s, state: "reconnecting" },
            effects: [{ type: "arm-reconnect-timer", ms: t.calleeWaitMs }],
          };
    }
    if (s.restarts >= t.maxRestarts) return end(s, "failed", [{ type: "send", signal: "hangup" }]);
    return {
      next: { ...s, state: s.connectedAt === null ? "connecting" : "reconnecting", restarts: s.restarts + 1 },
      effects: [{ type: "restart-ice" }, { type: "arm-reconnect-timer", ms: t.attemptMs }],
    };
  }
  return same;
}
