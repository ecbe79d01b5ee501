import type { Call, CallState, SoriClient } from "@sori/sdk";
import { type PacketCounters, weriftPlatform } from "@sori/werift-calls";

/** Turns calls on for a test device: werift on 127.0.0.1, a tone, packet counters, warnings kept. */
export function enableCalls(
  client: SoriClient,
  options: { ringTimeoutMs?: number; iceTransportPolicy?: "all" | "relay" } = {},
): { counters: PacketCounters; warnings: { code: string; message: string }[] } {
  const { platform, counters } = weriftPlatform({ loopback: true });
  client.calls.configure({
    platform,
    ringTimeoutMs: options.ringTimeoutMs ?? 10_000,
    iceTransportPolicy: options.iceTransportPolicy ?? "all",
  });
  const warnings: { code: string; message: string }[] = [];
  client.on("warning", (w) => warnings.push(w));
  return { counters, warnings };
}

/** The next call ringing on `client` (bounded). */
export function nextIncoming(client: SoriClient, timeoutMs = 10_000): Promise<Call> {
  return new Promise<Call>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error("no incoming call"));
    }, timeoutMs);
    const off = client.calls.on("incoming", (call) => {
      clearTimeout(timer);
      off();
      resolve(call);
    });
  });
}

/** Waits (bounded) until a call is in `state`. */
export function waitState(call: Call, state: CallState, timeoutMs = 10_000): Promise<void> {
  if (call.state === state) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`call stayed ${call.state} (${call.endReason ?? "-"}), expected ${state}`));
    }, timeoutMs);
    const off = call.on("state", (s) => {
      if (s !== state) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Polls (bounded) until `check` holds. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
