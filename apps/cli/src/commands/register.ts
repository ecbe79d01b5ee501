import type { Command } from "../command.ts";
import { enroll, ENROLL_OPTIONS } from "../enroll.ts";

export const registerCommand: Command = {
  name: "register",
  summary:
    "create an account and this device (password: $SORI_PASSWORD or prompt; the profile is encrypted under $SORI_PASSPHRASE or a prompted passphrase unless --no-passphrase or none is given)",
  args: [{ name: "username", usage: "<username>" }],
  options: ENROLL_OPTIONS,
  run: (ctx) => enroll(ctx, "register"),
};
