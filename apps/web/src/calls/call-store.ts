import type { Call, CallEndReason, CallQuality, CallState, RemoteMedia, SoriClient } from "@sori/sdk";
import { BrowserCallPlatform } from "./browser-call-platform.ts";
import { rtpCounters, testHooks } from "./test-hooks.ts";

/** What the call screens show; a new object whenever anything about the call changes. */
export type CallView = {
  call: Call;
  state: CallState;
  endReason: CallEndReason | null;
  media: "audio" | "video";
  muted: boolean;
  cameraOn: boolean;
  /** This side holds the call (the hold button). */
  onHold: boolean;
  remoteMedia: RemoteMedia;
  quality: CallQuality;
  connectedAt: number | null;
};

/** How long the "call ended" notice stays before the call screen closes. */
const ENDED_NOTICE_MS = 2500;

function viewOf(call: Call): CallView {
  return {
    call,
    state: call.state,
    endReason: call.endReason,
    media: call.media,
    muted: call.muted,
    cameraOn: call.cameraOn,
    onHold: call.onHold,
    remoteMedia: call.remoteMedia,
    quality: call.quality,
    connectedAt: call.connectedAt,
  };
}

/**
 * The call of this device for React: configures calls on the client (before it connects, so a ring
 * during catch-up is not missed), follows the SDK's call events and keeps an ended call on screen for a
 * moment so the person sees why it ended.
 */
export class CallStore {
  readonly platform = new BrowserCallPlatform();
  readonly #client: SoriClient;
  readonly #listeners = new Set<() => void>();
  readonly #offs: (() => void)[] = [];
  #view: CallView | null = null;
  #tracked: Call | undefined;
  #offCall: (() => void)[] = [];
  #endedTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(client: SoriClient) {
    this.#client = client;
    const hooks = testHooks();
    client.calls.configure({
      platform: this.platform,
      ...(hooks?.ringTimeoutMs ? { ringTimeoutMs: hooks.ringTimeoutMs } : {}),
    });
    if (hooks) {
      hooks.rtpStats = async () => (this.#tracked ? rtpCounters(this.#tracked) : null);
      hooks.iceRestarts = () => this.#tracked?.iceRestarts ?? 0;
    }
    this.#offs.push(
      client.calls.on("incoming", (call) => this.#track(call)),
      client.calls.on("call", (call) => {
        if (call === this.#tracked) this.#update();
      }),
    );
    // Wi-Fi to mobile and back: the old path is gone, so calls placed here restart ICE at once.
    const online = (): void => client.calls.networkChanged();
    // Closing the tab ends the call for the other side too (best effort: the hangup may not get out).
    const leaving = (): void => client.calls.hangupAll();
    window.addEventListener("online", online);
    window.addEventListener("pagehide", leaving);
    this.#offs.push(
      () => window.removeEventListener("online", online),
      () => window.removeEventListener("pagehide", leaving),
    );
  }

  readonly getSnapshot = (): CallView | null => this.#view;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  #notify(): void {
    for (const l of this.#listeners) l();
  }

  #track(call: Call): void {
    for (const off of this.#offCall) off();
    clearTimeout(this.#endedTimer);
    this.#tracked = call;
    this.#offCall = [call.on("quality", () => this.#update()), call.on("remote-media", () => this.#update())];
    this.#update();
  }

  /** Reads the tracked call again (after its state changed or after a local action). */
  #update(): void {
    const call = this.#tracked;
    if (!call) return;
    this.#view = viewOf(call);
    if (call.state === "ended") {
      for (const off of this.#offCall) off();
      this.#offCall = [];
      clearTimeout(this.#endedTimer);
      this.#endedTimer = setTimeout(() => {
        if (this.#tracked !== call) return;
        this.#tracked = undefined;
        this.#view = null;
        this.#notify();
      }, testHooks()?.endedNoticeMs ?? ENDED_NOTICE_MS);
    }
    this.#notify();
  }

  /** Calls the other person of a direct chat. */
  async start(chatId: string, video: boolean): Promise<void> {
    const call = await this.#client.calls.start(chatId, { video });
    this.#track(call);
  }

  /**
   * Calls a phone through a SIP gateway: `gateway` is the gateway's Sori account, `uri` a `sip:` URI
   * or a `tel:` number. The gateway may refuse (`declined`) or not reach it (`unreachable`) at once.
   */
  async startPhone(gateway: string, uri: string): Promise<void> {
    const call = await this.#client.calls.start(gateway, { via: { network: "sip", uri } });
    this.#track(call);
  }

  /** Runs an action on the call and shows its result. */
  async act(action: (call: Call) => Promise<void> | void): Promise<void> {
    const call = this.#tracked;
    if (!call) return;
    try {
      await action(call);
    } finally {
      if (call === this.#tracked) this.#update();
    }
  }

  /** Closes the "call ended" notice before its time. */
  dismiss(): void {
    if (this.#view?.state !== "ended") return;
    clearTimeout(this.#endedTimer);
    this.#tracked = undefined;
    this.#view = null;
    this.#notify();
  }

  dispose(): void {
    for (const off of [...this.#offs, ...this.#offCall]) off();
    clearTimeout(this.#endedTimer);
    this.#client.calls.hangupAll();
  }
}
