import type { Command } from "../command.ts";
import { APPROVAL_OPTIONS, enroll, ENROLL_OPTIONS } from "../enroll.ts";

export const loginCommand: Command = {
  name: "login",
  summary:
    "add this profile as a new device of an existing account (password as for register); another device of the account must approve it",
  args: [{ name: "username", usage: "<username>" }],
  options: [
    ...ENROLL_OPTIONS,
    ...APPROVAL_OPTIONS,
    {
      name: "reset-identity",
      type: "flag",
      summary:
        "you have no other device left: make a new identity key (signs every other device out; contacts see your safety number change)",
    },
  ],
  notes: [
    "Without another device (none signed in), the account gets a new identity key at once, as with --reset-identity.",
  ],
  run: (ctx) => enroll(ctx, "login"),
};
