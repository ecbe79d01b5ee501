import type { FlagOption, StringOption } from "./command.ts";

/** The profile every command but `server` opens. */
export const PROFILE: StringOption = {
  name: "profile",
  type: "string",
  value: "<dir>",
  env: "SORI_PROFILE",
  default: "~/.sori",
  summary: "this device's keys and state, in files of mode 0600",
};

export const JSON_OUTPUT: FlagOption = {
  name: "json",
  type: "flag",
  summary: "print one JSON object per line instead of text",
};

/** What usage lists once, under "global options", instead of with each command. */
export const GLOBAL_OPTIONS = [PROFILE, JSON_OUTPUT];
