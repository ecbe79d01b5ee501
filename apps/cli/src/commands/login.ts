import type { Command } from "../command.ts";
import { enroll, ENROLL_OPTIONS } from "../enroll.ts";

export const loginCommand: Command = {
  name: "login",
  summary: "add this profile as a new device of an existing account (password as for register)",
  args: [{ name: "username", usage: "<username>" }],
  options: ENROLL_OPTIONS,
  run: (ctx) => enroll(ctx, "login"),
};
