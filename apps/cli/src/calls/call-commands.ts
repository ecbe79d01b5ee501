import type { Call, SoriClient } from "@sori/sdk";
import { option, type ParsedArgs, UsageError } from "../args.ts";
import type { CliIo } from "../cli-io.ts";
import { type PacketCounters, weriftPlatform } from "./werift-platform.ts";

type Lines = { out: (line: string) => void; err: (line: string) => void };

function lines(cli: CliIo): Lines {
  return { out: (line) => cli.stdout(`${line}\n`), err: (line) => cli.stderr(`${line}\n`) };
}

/** Options shared by `sori call` and `sori answer`. */
export const CALL_OPTIONS = ["profile", "json", "video", "duration", "loopback", "relay", "ring-timeout"];

/** The one line `--json` prints when a call ends. */
export type CallResultLine = {
  state: "ended" | "declined" | "busy" | "no-answer" | "failed";
  /** The SDK's end reason, more precise than `state` (e.g. "answered-elsewhere"). */
  reason: string;
  durationS: number;
  packetsSent: number;
  packetsReceived: number;
  iceRestarts: number;
};

function seconds(args: ParsedArgs, name: string, fallback: number, max: number): number {
  const text = option(args, name);
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0 || v > max)
    throw new UsageError(`--${name} takes seconds from 0 to ${max}, got "${text}"`);
  return v;
}

/** Sets up calls on a client that is not connected yet (so a ring during catch-up is not missed). */
export function setUpCalls(client: SoriClient, args: ParsedArgs): PacketCounters {
  const { platform, counters } = weriftPlatform({ loopback: args.options.has("loopback") });
  const ringS = seconds(args, "ring-timeout", 45, 3600);
  client.calls.configure({
    platform,
    iceTransportPolicy: args.options.has("relay") ? "relay" : "all",
    ringTimeoutMs: ringS * 1000,
  });
  return counters;
}

/** `sori call <user>`: rings, talks (a tone) for --duration seconds once connected, hangs up. */
export async function runCall(
  client: SoriClient,
  args: ParsedArgs,
  counters: PacketCounters,
  cli: CliIo,
): Promise<number> {
  const io = lines(cli);
  const target = args.positionals[1];
  if (!target) throw new UsageError("missing <username>");
  const durationS = seconds(args, "duration", 10, 86_400);
  const json = args.options.has("json");
  const call = await client.calls.start(target, { video: args.options.has("video") });
  if (!json) io.out(`calling ${call.peer.username}…`);
  await untilEnded(cli, call, durationS, json ? undefined : io);
  return finish(client, call, counters, json, io);
}

/** `sori answer`: waits for a call, answers it (--auto, or after asking), stays until it ends. */
export async function runAnswer(
  client: SoriClient,
  args: ParsedArgs,
  counters: PacketCounters,
  cli: CliIo,
  incoming: Promise<Call>,
): Promise<number> {
  const io = lines(cli);
  const waitS = seconds(args, "wait", 60, 86_400);
  if (!args.options.has("auto") && !args.options.has("decline") && !cli.stdinIsTty)
    throw new UsageError("there is no terminal to ask whether to answer: pass --auto or --decline");
  const durationS = seconds(args, "duration", 0, 86_400);
  const json = args.options.has("json");
  // On stderr, so scripts (and tests) know when a call can ring here; stdout stays one JSON line.
  io.err(`sori: waiting up to ${waitS} s for a call`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const call = await Promise.race([
    incoming,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), waitS * 1000);
    }),
  ]);
  clearTimeout(timer);
  if (!call) {
    io.err(`sori: no call within ${waitS} s`);
    return 1;
  }
  const kind = call.media === "video" ? "video" : "voice";
  if (!json) io.out(`incoming ${kind} call from ${call.peer.username}`);
  let accept = args.options.has("auto");
  if (args.options.has("decline")) accept = false;
  else if (!accept && cli.stdinIsTty) {
    const ended = new AbortController();
    call.on("state", (s) => s === "ended" && ended.abort());
    const reply = await cli.ask("answer? [y/N] ", ended.signal);
    accept = /^y/i.test(reply.trim());
  }
  if (call.state === "ringing-in") {
    if (accept) await call.accept({ video: args.options.has("video") });
    else call.decline();
  }
  await untilEnded(cli, call, durationS || undefined, json ? undefined : io);
  return finish(client, call, counters, json, io);
}

/** Resolves when the call has ended; hangs up `durationS` after connecting if given, or on Ctrl-C. */
function untilEnded(
  cli: CliIo,
  call: Call,
  durationS: number | undefined,
  io: Lines | undefined,
): Promise<void> {
  const stopListening = cli.onInterrupt(() => call.hangup());
  return new Promise<void>((resolve) => {
    let hangupTimer: ReturnType<typeof setTimeout> | undefined;
    const onState = (state: string): void => {
      io?.out(`call ${state}${state === "ended" ? ` (${call.endReason})` : ""}`);
      if (state === "connected" && durationS !== undefined && !hangupTimer)
        hangupTimer = setTimeout(() => call.hangup(), durationS * 1000);
      if (state === "ended") {
        clearTimeout(hangupTimer);
        stopListening();
        resolve();
      }
    };
    if (call.state === "ended") {
      resolve();
      return;
    }
    call.on("state", onState);
  });
}

async function finish(
  client: SoriClient,
  call: Call,
  counters: PacketCounters,
  json: boolean,
  io: Lines,
): Promise<number> {
  await client.calls.flush();
  const line = resultLine(call, counters);
  if (json) io.out(JSON.stringify(line));
  else
    io.out(
      `call ${line.state} after ${line.durationS} s; RTP packets sent ${line.packetsSent}, received ${line.packetsReceived}`,
    );
  return line.state === "ended" ? 0 : 1;
}

export function resultLine(call: Call, counters: PacketCounters): CallResultLine {
  const reason = call.endReason ?? "hangup";
  const state: CallResultLine["state"] =
    reason === "declined" || reason === "declined-elsewhere"
      ? "declined"
      : reason === "busy"
        ? "busy"
        : reason === "no-answer" || reason === "missed"
          ? "no-answer"
          : reason === "failed"
            ? "failed"
            : "ended";
  return {
    state,
    reason,
    durationS: call.durationS,
    packetsSent: counters.sent,
    packetsReceived: counters.received,
    iceRestarts: call.iceRestarts,
  };
}
