import type { Command } from "../command.ts";
import { APPROVAL_OPTIONS, enroll, ENROLL_OPTIONS } from "../enroll.ts";

export const linkCommand: Command = {
  name: "link",
  summary: "make this profile a new device of the account that showed <code> (sori devices link)",
  args: [{ name: "code", usage: "<code>" }],
  options: [...ENROLL_OPTIONS, ...APPROVAL_OPTIONS],
  run: (ctx) => enroll(ctx, "link"),
};
