import type { CliIo } from "./cli-io.ts";

/** The password from `envName` (SORI_PASSWORD), else a prompt on the terminal (not echoed), else a line of stdin. */
export async function readPassword(io: CliIo, prompt: string, envName = "SORI_PASSWORD"): Promise<string> {
  const fromEnv = io.env[envName];
  if (fromEnv) return fromEnv;
  return io.stdinIsTty ? io.promptHidden(prompt) : io.readLine();
}

/**
 * The passphrase of an encrypted profile: SORI_PASSPHRASE, else a prompt when stdin is a terminal,
 * else undefined (bots and scripts set the variable, or use profiles without one).
 */
export async function readPassphrase(io: CliIo, prompt: string): Promise<string | undefined> {
  const fromEnv = io.env.SORI_PASSPHRASE;
  if (fromEnv !== undefined) return fromEnv;
  if (!io.stdinIsTty) return undefined;
  return io.promptHidden(prompt);
}
