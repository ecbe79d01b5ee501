import type { Call, SoriClient } from "@sori/sdk";
import type { CommandContext } from "../command.ts";
import { withClient } from "../session.ts";
import { escapeForTerminal as esc, jsonLine } from "../terminal-escape.ts";
import { UsageError } from "../usage-error.ts";
import { type PacketCounters, weriftPlatform } from "@sori/werift-calls";
import { callControls, keysOption } from "./call-keys.ts";

/** The one line `--json` prints when a call ends. */
type CallResultLine = {
  state: "ended" | "declined" | "busy" | "no-answer" | "failed";
  /** The SDK's end reason, more precise than `state` (e.g. "answered-elsewhere"). */
  reason: string;
  durationS: number;
  packetsSent: number;
  packetsReceived: number;
  iceRestarts: number;
  /** Keypad keys (DTMF) the other side pressed, in order ("" when none): a phone's menu choices. */
  dtmf: string;
  /**
   * The phone network played audio before it answered or refused (SIP early media: ringback, "the
   * number you dialled…"), which this call heard while it rang.
   */
  earlyMedia: boolean;
  /** A call bridged by a gateway: the party on the phone line (end-to-end encrypted only to the gateway). */
  via?: { network: string; uri: string; name?: string };
  /** Whose own phone line was on the other end (checked against their profile). */
  lineOwner?: { userId: string; username: string };
};

type CallSession = { client: SoriClient; counters: PacketCounters; incoming: Promise<Call> };

/**
 * Opens the profile with calls set up before connecting (so a ring during catch-up is not missed),
 * connects, and runs `fn`.
 */
async function withCalls(
  ctx: CommandContext,
  fn: (session: CallSession) => Promise<number>,
): Promise<number> {
  try {
    return await withClient(
      ctx,
      async (client) => {
        const { platform, counters } = weriftPlatform({ loopback: ctx.flag("loopback") });
        client.calls.configure({
          platform,
          iceTransportPolicy: ctx.flag("relay") ? "relay" : "all",
          ringTimeoutMs: ctx.seconds("ring-timeout") * 1000,
        });
        const incoming = new Promise<Call>((resolve) => {
          client.calls.on("incoming", resolve);
        });
        await client.connect();
        return fn({ client, counters, incoming });
      },
      { connect: false },
    );
  } finally {
    // werift can keep a DTLS retransmission timer running for ~30 s after a peer connection closed
    // mid-handshake; the call is over, so do not let it hold the process.
    ctx.io.exitSoon();
  }
}

/** `sori call <user>`: rings, talks (a tone) for --duration seconds once connected, hangs up. */
export function runCall(ctx: CommandContext): Promise<number> {
  const keys = keysOption(ctx);
  return withCalls(ctx, async ({ client, counters }) => {
    const json = ctx.flag("json");
    const target = ctx.arg("username");
    // A SIP address, or a number (tel:) for a gateway with a trunk.
    const phone = /^(sips?|tel):/i.test(target);
    const gateway = ctx.string("gateway");
    let call: Call;
    if (phone) {
      if (!gateway)
        throw new UsageError(
          "calling a sip: address or a tel: number goes through a gateway: pass --gateway <username>",
        );
      call = await client.calls.start(gateway, { via: { network: "sip", uri: target } });
    } else call = await client.calls.start(target, { video: ctx.flag("video") });
    const watch = watchCall(ctx, call, !json);
    callControls(ctx, call, { keys, show: !json });
    if (!json)
      ctx.out(
        phone
          ? `calling ${esc(target)} via ${esc(call.peer.username)} (not end-to-end encrypted past the gateway)…`
          : `calling ${esc(call.peer.username)}…`,
      );
    if (!json && !phone) {
      const off = call.on("state", (s) => {
        if (s === "ended") return off();
        if (s !== "connected" || !call.via) return;
        off();
        ctx.out(
          `answered on ${esc(call.peer.username)}'s phone "${esc(call.via.name ?? "phone")}" — not end-to-end encrypted past the gateway`,
        );
      });
    }
    await untilEnded(ctx, call, ctx.seconds("duration"), !json);
    return finish(ctx, client, call, counters, watch);
  });
}

/** `sori answer`: waits for a call, answers it (--auto, or after asking), stays until it ends. */
export function runAnswer(ctx: CommandContext): Promise<number> {
  if (!ctx.flag("auto") && !ctx.flag("decline") && !ctx.io.stdinIsTty)
    throw new UsageError("there is no terminal to ask whether to answer: pass --auto or --decline");
  const keys = keysOption(ctx);
  return withCalls(ctx, async ({ client, counters, incoming }) => {
    const waitS = ctx.seconds("wait");
    const json = ctx.flag("json");
    // On stderr, so scripts (and tests) know when a call can ring here; stdout stays one JSON line.
    ctx.err(`sori: waiting up to ${waitS} s for a call`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const call = await Promise.race([
      incoming,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), waitS * 1000);
      }),
    ]);
    clearTimeout(timer);
    if (!call) {
      ctx.err(`sori: no call within ${waitS} s`);
      return 1;
    }
    const watch = watchCall(ctx, call, !json);
    const kind = call.media === "video" ? "video" : "voice";
    if (!json)
      ctx.out(
        call.via && call.lineOwner
          ? `incoming call from ${esc(call.lineOwner.username)}'s phone "${esc(call.via.name ?? "phone")}" via ${esc(call.peer.username)} — not end-to-end encrypted`
          : call.via
            ? `incoming phone call from ${esc(call.via.name ? `${call.via.name} <${call.via.uri}>` : call.via.uri)} via ${esc(call.peer.username)} — not end-to-end encrypted`
            : `incoming ${kind} call from ${esc(call.peer.username)}`,
      );
    let accept = ctx.flag("auto");
    if (ctx.flag("decline")) accept = false;
    else if (!accept && ctx.io.stdinIsTty) {
      const ended = new AbortController();
      call.on("state", (s) => s === "ended" && ended.abort());
      const reply = await ctx.io.ask("answer? [y/N] ", ended.signal);
      accept = /^y/i.test(reply.trim());
    }
    if (call.state === "ringing-in") {
      if (accept) {
        callControls(ctx, call, { keys, show: !json });
        await call.accept({ video: ctx.flag("video") });
      } else call.decline();
    }
    await untilEnded(ctx, call, ctx.seconds("duration") || undefined, !json);
    return finish(ctx, client, call, counters, watch);
  });
}

/** What a call command saw of its call besides its states: the other side's keys, early media. */
type CallWatch = { keys: string[]; earlyMedia: boolean };

/**
 * Collects the keys the other side presses (a phone through a gateway) and, on a terminal, shows each
 * and when the other side holds or resumes the call.
 */
function watchCall(ctx: CommandContext, call: Call, show: boolean): CallWatch {
  const watch: CallWatch = { keys: [], earlyMedia: false };
  call.on("dtmf", (key) => {
    watch.keys.push(key);
    if (show) ctx.out(`key ${key}`);
  });
  call.on("state", (s) => {
    if (s === "early-media") watch.earlyMedia = true;
  });
  let held = false;
  let holdFailed = false;
  call.on("remote-media", (media) => {
    if (media.holdFailed !== holdFailed) {
      holdFailed = media.holdFailed;
      if (show && holdFailed)
        ctx.out(
          call.onHold
            ? "hold not passed on: the phone was not told (it hears silence)"
            : "resume not passed on: the phone may still hold",
        );
    }
    if (media.held === held) return;
    held = media.held;
    if (show) ctx.out(held ? "call on hold (by the other side)" : "call resumed");
  });
  return watch;
}

/** Resolves when the call has ended; hangs up `durationS` after connecting if given, or on Ctrl-C. */
function untilEnded(
  ctx: CommandContext,
  call: Call,
  durationS: number | undefined,
  showStates: boolean,
): Promise<void> {
  const stopListening = ctx.io.onInterrupt(() => call.hangup());
  return new Promise<void>((resolve) => {
    let hangupTimer: ReturnType<typeof setTimeout> | undefined;
    const onState = (state: string): void => {
      if (showStates)
        ctx.out(
          state === "early-media"
            ? "call early-media (the phone network plays audio; not answered yet)"
            : esc(`call ${state}${state === "ended" ? ` (${call.endReason})` : ""}`),
        );
      if (state === "connected" && durationS !== undefined && !hangupTimer)
        hangupTimer = setTimeout(() => call.hangup(), durationS * 1000);
      if (state === "ended") {
        clearTimeout(hangupTimer);
        stopListening();
        resolve();
      }
    };
    if (call.state === "ended") {
      stopListening();
      resolve();
      return;
    }
    call.on("state", onState);
    // Connected already (a fast path finishes while accept() is still returning): the timer starts now.
    if (call.state === "connected") onState("connected");
  });
}

async function finish(
  ctx: CommandContext,
  client: SoriClient,
  call: Call,
  counters: PacketCounters,
  watch: CallWatch,
): Promise<number> {
  await client.calls.flush();
  const line = resultLine(call, counters, watch);
  if (ctx.flag("json")) ctx.out(jsonLine(line));
  else
    ctx.out(
      `call ${line.state} after ${line.durationS} s; RTP packets sent ${line.packetsSent}, received ${line.packetsReceived}`,
    );
  return line.state === "ended" ? 0 : 1;
}

function resultLine(call: Call, counters: PacketCounters, watch: CallWatch): CallResultLine {
  const reason = call.endReason ?? "hangup";
  const state: CallResultLine["state"] =
    reason === "declined" || reason === "declined-elsewhere"
      ? "declined"
      : reason === "busy"
        ? "busy"
        : reason === "no-answer" || reason === "missed"
          ? "no-answer"
          : reason === "failed" || reason === "unreachable"
            ? "failed"
            : "ended";
  return {
    state,
    reason,
    durationS: call.durationS,
    packetsSent: counters.sent,
    packetsReceived: counters.received,
    iceRestarts: call.iceRestarts,
    dtmf: watch.keys.join(""),
    earlyMedia: watch.earlyMedia,
    ...(call.via ? { via: call.via } : {}),
    ...(call.lineOwner ? { lineOwner: call.lineOwner } : {}),
  };
}
