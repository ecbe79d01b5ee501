import type { OptionSpec } from "../command.ts";
import { JSON_OUTPUT, PROFILE } from "../common-options.ts";

/** Options `sori call` and `sori answer` share (`--duration` is theirs: its default differs). */
export const CALL_OPTIONS: readonly OptionSpec[] = [
  { name: "video", type: "flag", summary: "send video too (a fixed test frame)" },
  { name: "loopback", type: "flag", summary: "127.0.0.1 candidates only (tests on one machine)" },
  { name: "relay", type: "flag", summary: "TURN relay candidates only" },
  { name: "ring-timeout", type: "seconds", max: 3600, default: 45, summary: "how long a call rings" },
  {
    name: "keys",
    type: "string",
    value: "<0-9*#A-D>",
    summary: "keypad keys to send once connected (a phone's menu, through a gateway)",
  },
  PROFILE,
  JSON_OUTPUT,
];

/** What `--help` of both says about the --json line. */
export const CALL_NOTES: readonly string[] = [
  "A generated tone is the microphone. With --json, one line when the call ends:",
  '{"state":"ended"|"declined"|"busy"|"no-answer"|"failed","reason","durationS","packetsSent","packetsReceived","iceRestarts","dtmf","earlyMedia"}',
  '"dtmf": the keypad keys the other side pressed (a phone\'s, through a gateway), in order; "" if none.',
  '"earlyMedia": true if the phone network played audio before it answered (ringback, announcements).',
  'Exit code 0 when the call ended after being answered ("ended"), else 1.',
  "On a terminal, once connected: type keys (0-9, *, #, A-D) and Enter to send them, or hold / resume.",
];
