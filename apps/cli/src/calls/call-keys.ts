import { type Call, checkDtmfTones, DtmfError } from "@sori/sdk";
import type { CommandContext } from "../command.ts";
import { escapeForTerminal as esc } from "../terminal-escape.ts";
import { UsageError } from "../usage-error.ts";

/** How long after the call connects `--keys` go: the phone's side of a bridged call is up by then. */
const KEYS_AFTER_MS = 500;

/** `--keys`, checked before anything is called: 0-9, *, #, A-D. */
export function keysOption(ctx: CommandContext): string | undefined {
  const keys = ctx.string("keys");
  if (keys === undefined) return undefined;
  try {
    return checkDtmfTones(keys);
  } catch (error) {
    throw new UsageError(`--keys: ${(error as Error).message}`);
  }
}

/**
 * What this side does to a connected call from the command line: `--keys` sent once (RFC 4733
 * keypad events, for a phone's menu through a gateway) and, on a terminal, each typed line: keys to
 * send, or `hold` / `resume`.
 */
export function callControls(
  ctx: CommandContext,
  call: Call,
  o: { keys: string | undefined; show: boolean },
): void {
  const send = (tones: string): void => {
    try {
      call.sendDtmf(tones);
      if (o.show) ctx.out(`sent keys ${tones.toUpperCase()}`);
    } catch (error) {
      ctx.err(`sori: keys not sent: ${error instanceof DtmfError ? error.message : "error"}`);
    }
  };
  const typed = (line: string): void => {
    const text = line.trim();
    if (text === "") return;
    if (text === "hold" || text === "resume") {
      void call.setOnHold(text === "hold").catch(() => ctx.err("sori: hold failed"));
      if (o.show) ctx.out(text === "hold" ? "call on hold (by you)" : "call resumed (by you)");
      return;
    }
    if (call.state !== "connected") return ctx.err("sori: the call is not connected");
    if (!/^[0-9A-Da-d#*]+$/.test(text))
      return ctx.err(`sori: not keys: ${esc(text)} (0-9, *, #, A-D, hold, resume)`);
    send(text);
  };
  let started = false;
  let offLines: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onState = (state: string): void => {
    if (state === "ended") {
      clearTimeout(timer);
      offLines?.();
      off();
      return;
    }
    // Once: a reconnect is "connected" again.
    if (state !== "connected" || started) return;
    started = true;
    const keys = o.keys;
    if (keys) timer = setTimeout(() => call.state === "connected" && send(keys), KEYS_AFTER_MS);
    if (!ctx.io.stdinIsTty) return;
    // After this state's own line ("call connected"), which another listener prints.
    queueMicrotask(() => {
      if (call.state === "ended") return;
      if (o.show) ctx.out("type keys (0-9, *, #, A-D) and Enter to send them; hold or resume");
      offLines = ctx.io.onLine(typed);
    });
  };
  const off = call.on("state", onState);
  if (call.state === "connected") onState("connected");
}
