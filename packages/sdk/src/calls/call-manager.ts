import type { WarningCode } from "../warnings.ts";
import { TypedEmitter } from "../util/typed-emitter.ts";
import { Call, type CallContext } from "./call.ts";
import {
  type CallDirection,
  type CallEndReason,
  type CallTimings,
  DEFAULT_TIMINGS,
  ringingOut,
} from "./call-machine.ts";
import type { PhoneLineWire } from "../messages/content.ts";
import type { CallLogBody, CallOutcome, CallSignal, ForeignParty, PhoneLineRef } from "./call-signal.ts";
import type { CallPlatform, IceServer, PeerConnectionConfig } from "./peer.ts";

/** How long an outgoing call rings before it counts as unanswered. */
export const RING_TIMEOUT_MS = 45_000;
/** A callee stops ringing this long after the ring timeout even if the caller's cancel never came. */
const RING_GRACE_MS = 5_000;
const TURN_REFRESH_FRACTION = 0.8;
/** How long a call waits for the chat with a gateway hosting the callee's phone lines (made on first use). */
const LINE_CHAT_TIMEOUT_MS = 3_000;

/**
 * Where an outgoing call's signals go when the callee has phone lines: the chat with the callee, and
 * one chat per gateway hosting a line of theirs. The first to answer takes the call.
 */
type Route = { chatId: string; userId: string; lines?: { refs: PhoneLineRef[]; names: string[] } };
type Forks = {
  routes: Route[];
  /** Which chat each answering device spoke in (replies addressed to it go there). */
  devices: Map<string, string>;
  answeredIn: string | undefined;
};

export type CallManagerEvents = {
  /** A call rings on this device; answer with `call.accept()`, or `call.decline()`. */
  incoming: (call: Call) => void;
  /** Any call on this device changed state (incoming or outgoing, "ended" included). */
  call: (call: Call) => void;
};

export type CallOptions = {
  /** Creates peer connections and local media (browser, werift). Required before calls work. */
  platform: CallPlatform;
  /** STUN/TURN servers of your own, used besides the ones the Sori server hands out. */
  iceServers?: IceServer[];
  /** Ask the Sori server for time-limited TURN credentials (default true). */
  useServerTurn?: boolean;
  /** "relay" forces every call through TURN (privacy: hides addresses from the other side). */
  iceTransportPolicy?: "all" | "relay";
  /** How long an outgoing call rings before "no-answer" (default 45 s; tests shorten it). */
  ringTimeoutMs?: number;
  /**
   * Calls this device may be in at once (default 1: a ring during a call is answered "busy"). A
   * gateway, which bridges many people's calls, sets it higher.
   */
  maxCalls?: number;
  /** Reconnection timings (ICE restart budget and waits). */
  timings?: Partial<CallTimings>;
};

/** What the call manager needs from the client: signalling, history, directory. */
export type CallHost = {
  readonly userId: string;
  readonly deviceId: string;
  /** Sends a call signal transiently (not stored); waits for the link while it is down. */
  sendSignal(chatId: string, callId: string, signal: CallSignal): Promise<void>;
  /** Records the call in the chat's history on every device (a durable, encrypted message). */
  sendCallLog(chatId: string, log: CallLogBody): Promise<void>;
  /** A direct chat by id or username (created for a username if needed), with the other person. */
  directChat(target: string): Promise<{ chatId: string; peer: { userId: string; username: string } }>;
  /** The other member of a direct chat this device knows; undefined for groups and unknown chats. */
  directPeer(chatId: string): Promise<{ userId: string; username: string } | undefined>;
  /** The phone lines a user listed in the profile they shared with this device. */
  phoneLinesOf(userId: string): Promise<PhoneLineWire[]>;
  usernameOf(userId: string): Promise<string>;
  /** Whether the operator runs this account as a gateway (the directory marks it). */
  isGateway(userId: string): Promise<boolean>;
  turnCredentials(): Promise<{ iceServers: IceServer[]; ttlS: number }>;
  warn(code: WarningCode, message: string): void;
};

const randomCallId = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
};

/**
 * The calls of one device: starts them, rings on incoming ones, routes signals to the right call, and
 * writes call history. One call at a time: a ring during a call is answered "busy".
 */
export class CallManager {
  readonly #host: CallHost;
  readonly #events = new TypedEmitter<CallManagerEvents>();
  readonly #calls = new Map<string, Call>();
  /** Per call: signals are handled one after another, in arrival order. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Rings being checked (an await): signals of that call that arrive meanwhile wait here. */
  readonly #ringing = new Map<string, (() => void)[]>();
  /** Ended call ids, so late signals of a finished call are recognised rather than warned about. */
  readonly #finished = new Set<string>();
  /** Outgoing calls that also ring the callee's phone lines. */
  readonly #forks = new Map<string, Forks>();
  #options: CallOptions | undefined;
  #sendChain: Promise<void> = Promise.resolve();
  #turn: { iceServers: IceServer[]; until: number } | undefined;

  constructor(host: CallHost) {
    this.#host = host;
  }

  /** Enables calls on this device. Devices that never configure calls do not ring. */
  configure(options: CallOptions): void {
    this.#options = options;
  }

  get configured(): boolean {
    return this.#options !== undefined;
  }

  on<E extends keyof CallManagerEvents>(event: E, listener: CallManagerEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /** The call this device is in or ringing with, if any. */
  get active(): Call | undefined {
    for (const c of this.#calls.values()) if (c.state !== "ended") return c;
    return undefined;
  }

  /** Every call on this device that has not ended (normally at most one, plus rings being refused). */
  get calls(): Call[] {
    return [...this.#calls.values()].filter((c) => c.state !== "ended");
  }

  /**
   * Calls a person: `target` is a direct chat id or a username. Resolves once ringing has begun.
   * `prepare` sees the call before its peer connection and offer are made (a gateway ties the call's
   * media to its phone leg there).
   */
  async start(
    target: string,
    options: { video?: boolean; via?: ForeignParty; prepare?: (call: Call) => void } = {},
  ): Promise<Call> {
    const o = this.#require();
    if (this.#full()) throw new CallError("busy", "this device is already in a call; hang up first");
    const { chatId, peer } = await this.#host.directChat(target);
    // A gateway's own calls ring people's devices only: a line it hosts is its own business.
    const lines = options.via ? [] : await this.#lineRoutes(peer.userId);
    const call = this.#newCall({
      id: randomCallId(),
      chatId,
      direction: "outgoing",
      peer,
      media: options.video ? "video" : "audio",
      ...(options.via ? { via: options.via } : {}),
    });
    if (lines.length > 0)
      this.#forks.set(call.id, {
        routes: [{ chatId, userId: peer.userId }, ...lines],
        devices: new Map(),
        answeredIn: undefined,
      });
    options.prepare?.(call);
    await call.startOutgoing(o.ringTimeoutMs ?? RING_TIMEOUT_MS);
    return call;
  }

  /**
   * The callee's phone lines, one route per gateway (a desk phone and a softphone at one gateway ring
   * together there). Only accounts the directory marks as gateways: a profile naming anyone else
   * would make this device call them. Gateways not reachable now are skipped.
   */
  async #lineRoutes(userId: string): Promise<Route[]> {
    const lines = await this.#host.phoneLinesOf(userId).catch(() => []);
    const byGateway = new Map<string, typeof lines>();
    for (const l of lines) {
      if (l.gateway.userId === this.#host.userId) continue;
      byGateway.set(l.gateway.userId, [...(byGateway.get(l.gateway.userId) ?? []), l]);
    }
    const routes = await Promise.all(
      [...byGateway.values()].map(async (at): Promise<Route | undefined> => {
        const gateway = at[0]!.gateway;
        const names = at.map((l) => l.name);
        if (!(await this.#host.isGateway(gateway.userId).catch(() => false))) {
          this.#host.warn(
            "call-line-unreachable",
            `${gateway.username} is not a gateway: not ringing "${names.join('", "')}"`,
          );
          return undefined;
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const chat = await Promise.race([
          this.#host.directChat(gateway.username).catch(() => undefined),
          new Promise<undefined>((resolve) => {
            timer = setTimeout(() => resolve(undefined), LINE_CHAT_TIMEOUT_MS);
          }),
        ]);
        clearTimeout(timer);
        // The profile names the gateway by id too: a renamed or re-registered username is not it.
        if (!chat || chat.peer.userId !== gateway.userId) {
          this.#host.warn("call-line-unreachable", `could not ring the phone line "${names.join('", "')}"`);
          return undefined;
        }
        return {
          chatId: chat.chatId,
          userId: gateway.userId,
          lines: { refs: at.map((l) => ({ owner: userId, id: l.id })), names },
        };
      }),
    );
    return routes.filter((r): r is Route => r !== undefined);
  }

  /** The network changed (e.g. Wi-Fi to mobile): calls this device placed restart ICE at once. */
  networkChanged(): void {
    for (const c of this.calls) if (c.direction === "outgoing" && !ringingOut(c.state)) c.restartIce();
  }

  /** Hangs up every call (the client is closing). */
  hangupAll(): void {
    for (const c of this.calls) c.hangup();
  }

  // --- called by the client ---------------------------------------------------------------------

  /** The signalling link came back after a loss. */
  /** As many calls as this device takes at once are going on. */
  #full(): boolean {
    return this.calls.length >= (this.#options?.maxCalls ?? 1);
  }

  connectionRestored(): void {
    for (const c of this.calls) c.onSignallingRestored();
  }

  /**
   * A call signal decrypted from the chat's group. The sender is MLS-authenticated; whether it may
   * speak for this call (right user, right device, addressed here) is checked now. Anything else is
   * ignored — with a warning when it was addressed to this device.
   */
  handleSignal(
    chatId: string,
    from: { userId: string; deviceId: string },
    callId: string,
    signal: CallSignal,
    sentAt: number,
  ): void {
    if (!this.#options) return;
    if (from.deviceId === this.#host.deviceId) return;
    const call = this.#calls.get(callId);
    const toMe = "to" in signal && signal.to === this.#host.deviceId;
    if (!call) {
      if (signal.kind === "ring") {
        if (this.#ringing.has(callId)) return;
        this.#ringing.set(callId, []);
        void this.#onRing(chatId, from, callId, signal, sentAt).finally(() => {
          const waiting = this.#ringing.get(callId) ?? [];
          this.#ringing.delete(callId);
          for (const replay of waiting) replay();
        });
        return;
      }
      // The ring of this call is still being checked: its candidates must not be lost.
      const waiting = this.#ringing.get(callId);
      if (waiting) {
        if (waiting.length < 256) waiting.push(() => this.handleSignal(chatId, from, callId, signal, sentAt));
        return;
      }
      // Signals of calls on other devices are normal in a shared group; only ones addressed here are odd.
      if (toMe && !this.#finished.has(callId))
        this.#host.warn("call-signal-ignored", `ignored a ${signal.kind} signal for an unknown call`);
      return;
    }
    const forks = this.#forks.get(callId);
    const route = call.chatId === chatId ? undefined : forks?.routes.find((r) => r.chatId === chatId);
    if (call.chatId !== chatId && !route) {
      this.#host.warn("call-signal-ignored", "ignored a call signal sent in another chat");
      return;
    }
    if (route && from.userId !== route.userId) {
      this.#host.warn("call-signal-ignored", "ignored a call signal from someone not in the call");
      return;
    }
    if (!route && from.userId === this.#host.userId) {
      // Another device of this user answered or declined the call ringing here.
      if (call.direction === "incoming" && (signal.kind === "accept" || signal.kind === "decline"))
        call.handledElsewhere(signal.kind === "accept" ? "answered" : "declined");
      return;
    }
    if (!route && from.userId !== call.peer.userId) {
      this.#host.warn("call-signal-ignored", "ignored a call signal from someone not in the call");
      return;
    }
    if ("to" in signal && signal.to !== undefined && !toMe) return;
    const peerDevice = call.peerDeviceId;
    const fromAnswerer = signal.kind === "accept" || signal.kind === "decline" || signal.kind === "busy";
    if (peerDevice !== undefined && from.deviceId !== peerDevice && !fromAnswerer) {
      this.#host.warn("call-signal-ignored", "ignored a call signal from a device not in the call");
      return;
    }
    if (forks && fromAnswerer) forks.devices.set(from.deviceId, chatId);
    const chain = (this.#chains.get(callId) ?? Promise.resolve()).then(async () => {
      if (signal.kind === "early" && !(await this.#earlyAllowed(forks, from.userId))) return;
      if (forks && ringingOut(call.state) && !this.#forkAnswer(call, forks, chatId, route, signal)) return;
      await call.onSignal(signal, from.deviceId);
    });
    this.#chains.set(
      callId,
      chain.catch(() => undefined),
    );
  }

  /**
   * Early media is a gateway's (the other network's audio before it answers). A forked call takes
   * none: its answer would be set already when another fork (a device of the callee) accepts.
   */
  async #earlyAllowed(forks: Forks | undefined, from: string): Promise<boolean> {
    if (forks) return false;
    if (await this.#host.isGateway(from).catch(() => false)) return true;
    this.#host.warn("call-signal-ignored", "ignored early media from an account that is not a gateway");
    return false;
  }

  /**
   * A forked call's first answers: the first accept takes the call and the other routes stop ringing;
   * a busy or unreachable phone line drops out alone. False when the signal stops here.
   */
  #forkAnswer(
    call: Call,
    forks: Forks,
    chatId: string,
    route: Route | undefined,
    signal: CallSignal,
  ): boolean {
    const others = (reason: "answered-elsewhere" | "declined"): void => {
      for (const r of forks.routes)
        if (r.chatId !== chatId) this.#send(r.chatId, call.id, { kind: "cancel", reason });
    };
    if (signal.kind === "accept") {
      forks.answeredIn = chatId;
      const lines = route?.lines;
      if (lines) {
        // The gateway says which of the lines took it; its name is the one the callee's profile gives.
        const said = signal.via?.line?.id;
        const i = Math.max(0, said === undefined ? 0 : lines.refs.findIndex((r) => r.id === said));
        call.answeredOnLine(
          {
            network: "sip",
            uri: signal.via?.uri ?? `sip:${call.peer.username}`,
            name: lines.names[i]!,
            line: lines.refs[i]!,
          },
          call.peer,
        );
      }
      others("answered-elsewhere");
      return true;
    }
    if (route && (signal.kind === "busy" || (signal.kind === "decline" && signal.reason === "unreachable"))) {
      forks.routes = forks.routes.filter((r) => r !== route);
      return false;
    }
    if (signal.kind === "decline") others("declined");
    return true;
  }

  async #onRing(
    chatId: string,
    from: { userId: string; deviceId: string },
    callId: string,
    signal: Extract<CallSignal, { kind: "ring" }>,
    sentAt: number,
  ): Promise<void> {
    const o = this.#options;
    // This user's own call from another device: that device is the caller, nothing rings here.
    if (!o || from.userId === this.#host.userId || this.#finished.has(callId)) return;
    const ringMs = o.ringTimeoutMs ?? RING_TIMEOUT_MS;
    // A ring that waited in a queue (the durable path) is long over.
    if (Date.now() - sentAt > ringMs) return;
    const peer = await this.#host.directPeer(chatId);
    if (!peer || peer.userId !== from.userId) {
      this.#host.warn("call-signal-ignored", "ignored a ring outside a direct chat with the caller");
      return;
    }
    if (this.#calls.has(callId)) return;
    if (this.#full()) {
      this.#send(chatId, callId, { kind: "busy", to: from.deviceId });
      this.#finished.add(callId);
      return;
    }
    // Only an account the operator runs as a gateway may say who is on another network's end. (A
    // ring *to* a gateway names the address to call: the gateway itself takes it from anyone.)
    let claimed = signal.via;
    const gateway = (id: string): Promise<boolean> => this.#host.isGateway(id).catch(() => false);
    if (claimed && !(await gateway(from.userId)) && !(await gateway(this.#host.userId))) {
      this.#host.warn(
        "call-signal-ignored",
        "ignored a phone caller named by an account that is not a gateway",
      );
      claimed = undefined;
    }
    const { via, lineOwner } = await this.#checkLine(claimed, from.userId);
    if (this.#calls.has(callId)) return;
    const call = this.#newCall({
      id: callId,
      chatId,
      direction: "incoming",
      peer,
      media: signal.media,
      peerDevice: from.deviceId,
      remoteOffer: signal.sdp,
      ...(via ? { via } : {}),
      // Only a gateway rings phone lines: anyone else ignores a ring's lines (and just rings).
      ...(signal.lines && (await gateway(this.#host.userId)) ? { lines: signal.lines } : {}),
      ...(lineOwner ? { lineOwner } : {}),
    });
    call.startRinging(ringMs + RING_GRACE_MS);
    this.#events.emit("incoming", call);
  }

  /**
   * A gateway says the call comes from someone's own phone line: kept only if that person's profile
   * lists the line at this very gateway (a gateway cannot make a phone call look like a friend's).
   */
  async #checkLine(
    via: ForeignParty | undefined,
    gatewayId: string,
  ): Promise<{ via: ForeignParty | undefined; lineOwner?: { userId: string; username: string } }> {
    const ref = via?.line;
    if (!via || !ref) return { via };
    const lines = await this.#host.phoneLinesOf(ref.owner).catch(() => []);
    if (lines.some((l) => l.id === ref.id && l.gateway.userId === gatewayId)) {
      const username = await this.#host.usernameOf(ref.owner).catch(() => undefined);
      if (username) return { via, lineOwner: { userId: ref.owner, username } };
    }
    const { line: _claimed, ...plain } = via;
    return { via: plain };
  }

  #newCall(o: {
    id: string;
    chatId: string;
    direction: CallDirection;
    peer: { userId: string; username: string };
    media: "audio" | "video";
    peerDevice?: string;
    remoteOffer?: string;
    via?: ForeignParty;
    lines?: PhoneLineRef[];
    lineOwner?: { userId: string; username: string };
  }): Call {
    const options = this.#require();
    const ctx: CallContext = {
      platform: options.platform,
      timings: { ...DEFAULT_TIMINGS, ...options.timings },
      send: (signal) => this.#route(o.chatId, o.id, signal),
      peerConfig: () => this.#peerConfig(),
      warn: (code, message) => this.#host.warn(code, message),
      ended: (call) => this.#ended(call),
      now: () => Date.now(),
    };
    const call = new Call({ ...o, ctx });
    this.#calls.set(o.id, call);
    call.on("state", () => this.#events.emit("call", call));
    return call;
  }

  #ended(call: Call): void {
    this.#calls.delete(call.id);
    this.#forks.delete(call.id);
    this.#chains.delete(call.id);
    this.#finished.add(call.id);
    if (this.#finished.size > 1000) this.#finished.delete(this.#finished.values().next().value!);
    if (call.direction !== "outgoing") return;
    // The caller's device writes the history entry; every other device of both users gets it.
    const log: CallLogBody = {
      callId: call.id,
      media: call.media,
      outcome: outcomeOf(call.endReason, call.connectedAt),
      durationS: call.durationS,
      startedAt: call.startedAt,
    };
    this.#sendChain = this.#sendChain
      .then(() => this.#host.sendCallLog(call.chatId, log))
      .catch((e: unknown) =>
        this.#host.warn("call-log-failed", `could not record the call in the chat: ${(e as Error).message}`),
      );
  }

  /** A call's signal to where it belongs: addressed ones to their device's chat, the others to every route. */
  #route(chatId: string, callId: string, signal: CallSignal): void {
    const forks = this.#forks.get(callId);
    if (!forks) return this.#send(chatId, callId, signal);
    if ("to" in signal && signal.to !== undefined)
      return this.#send(forks.devices.get(signal.to) ?? chatId, callId, signal);
    for (const r of forks.routes) {
      if (forks.answeredIn !== undefined && r.chatId !== forks.answeredIn) continue;
      this.#send(
        r.chatId,
        callId,
        signal.kind === "ring" && r.lines ? { ...signal, lines: r.lines.refs } : signal,
      );
    }
  }

  /** Signals go out one at a time, in order; while the link is down they wait for it. */
  #send(chatId: string, callId: string, signal: CallSignal): void {
    this.#sendChain = this.#sendChain
      .then(() => this.#host.sendSignal(chatId, callId, signal))
      .catch((e: unknown) =>
        this.#host.warn(
          "call-signal-lost",
          `a ${signal.kind} signal could not be sent: ${(e as Error).message}`,
        ),
      );
  }

  /** Waits until every signal queued so far has been handed to the server (for tests and the CLI). */
  flush(): Promise<void> {
    return this.#sendChain;
  }

  async #peerConfig(): Promise<Omit<PeerConnectionConfig, "callId">> {
    const o = this.#require();
    const iceServers = [...(o.iceServers ?? [])];
    if (o.useServerTurn !== false) {
      if (!this.#turn || this.#turn.until < Date.now()) {
        try {
          const t = await this.#host.turnCredentials();
          this.#turn = {
            iceServers: t.iceServers,
            until: Date.now() + t.ttlS * 1000 * TURN_REFRESH_FRACTION,
          };
        } catch {
          // Offline right now: the call can still work with host and STUN candidates.
        }
      }
      iceServers.push(...(this.#turn?.iceServers ?? []));
    }
    return { iceServers, iceTransportPolicy: o.iceTransportPolicy ?? "all" };
  }

  #require(): CallOptions {
    if (!this.#options)
      throw new CallError("not-configured", "calls are not set up on this device: call configure() first");
    return this.#options;
  }
}

/** A call could not be started. */
export class CallError extends Error {
  readonly code: "busy" | "not-configured";
  constructor(code: "busy" | "not-configured", message: string) {
    super(message);
    this.name = "CallError";
    this.code = code;
  }
}

function outcomeOf(reason: CallEndReason | null, connectedAt: number | null): CallOutcome {
  if (connectedAt !== null) return "answered";
  switch (reason) {
    case "declined":
    case "busy":
    case "no-answer":
    case "cancelled":
      return reason;
    default:
      return "failed";
  }
}
