import { CALL_NOTES, CALL_OPTIONS } from "../calls/call-options.ts";
import type { Command } from "../command.ts";

export const answerCommand: Command = {
  name: "answer",
  summary: "wait for a call and answer it (asking on a terminal); stays until it ends",
  args: [],
  options: [
    { name: "auto", type: "flag", summary: "answer without asking" },
    { name: "decline", type: "flag", summary: "decline the call" },
    { name: "wait", type: "seconds", max: 86_400, default: 60, summary: "wait this long for a call" },
    {
      name: "duration",
      type: "seconds",
      max: 86_400,
      default: 0,
      summary: "hang up this long after connecting; 0: stay until the caller hangs up",
    },
    ...CALL_OPTIONS,
  ],
  notes: CALL_NOTES,
  run: async (ctx) => {
    // As for `sori call`: werift is loaded only for calls.
    const { runAnswer } = await import("../calls/call-commands.ts");
    return runAnswer(ctx);
  },
};
