import { CALL_NOTES, CALL_OPTIONS } from "../calls/call-options.ts";
import type { Command } from "../command.ts";

export const callCommand: Command = {
  name: "call",
  summary: "call someone; hangs up --duration s after connecting",
  args: [{ name: "username", usage: "<username>" }],
  options: [
    { name: "duration", type: "seconds", max: 86_400, default: 10, summary: "talk this long" },
    ...CALL_OPTIONS,
  ],
  notes: CALL_NOTES,
  run: async (ctx) => {
    // Loaded here, not at the top: werift is heavy, and every other command starts faster without it.
    const { runCall } = await import("../calls/call-commands.ts");
    return runCall(ctx);
  },
};
