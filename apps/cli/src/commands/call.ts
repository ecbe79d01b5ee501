import { CALL_NOTES, CALL_OPTIONS } from "../calls/call-options.ts";
import type { Command } from "../command.ts";

export const callCommand: Command = {
  name: "call",
  summary: "call someone (or a phone, sip:…, through a gateway); hangs up --duration s after connecting",
  args: [{ name: "username", usage: "<username|sip:user@host[:port]>" }],
  options: [
    { name: "duration", type: "seconds", max: 86_400, default: 10, summary: "talk this long" },
    {
      name: "gateway",
      type: "string",
      value: "<username>",
      env: "SORI_SIP_GATEWAY",
      summary: "the SIP gateway's account, for calling a sip: address",
    },
    ...CALL_OPTIONS,
  ],
  notes: CALL_NOTES,
  run: async (ctx) => {
    // Loaded here, not at the top: werift is heavy, and every other command starts faster without it.
    const { runCall } = await import("../calls/call-commands.ts");
    return runCall(ctx);
  },
};
