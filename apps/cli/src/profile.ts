import { join, resolve } from "node:path";
import { type ClientStorage, EncryptedStorage, SdkError } from "@sori/sdk";
import { FileStorage } from "@sori/sdk/node";
import type { CommandContext } from "./command.ts";
import { readPassphrase } from "./password-prompt.ts";

/** An opened profile directory; `release` gives up its lock (a process-wide one, see FileStorage). */
export type OpenProfile = { storage: ClientStorage; release(): void };

/** The profile directory: --profile, else $SORI_PROFILE, else ~/.sori. */
export function profileDir(ctx: CommandContext): string {
  const home = ctx.io.homeDir;
  const dir = ctx.string("profile") ?? join(home, ".sori");
  return resolve(dir.startsWith("~/") ? join(home, dir.slice(2)) : dir);
}

/**
 * The profile's storage: encrypted under a passphrase ($SORI_PASSPHRASE or a prompt) if it was made
 * so. New profiles (`creating`) are encrypted when a passphrase is given, unless --no-passphrase (bots).
 */
export async function openProfile(ctx: CommandContext, creating = false): Promise<OpenProfile> {
  const files = new FileStorage(profileDir(ctx));
  // Released at once, not at process exit, so run() can be called again in the same process.
  const release = (): void => files.release();
  try {
    return { storage: await storageOf(ctx, files, creating), release };
  } catch (error) {
    release();
    throw error;
  }
}

async function storageOf(ctx: CommandContext, files: FileStorage, creating: boolean): Promise<ClientStorage> {
  if (await EncryptedStorage.isEncrypted(files)) {
    const passphrase = await readPassphrase(ctx.io, "passphrase for this profile: ");
    if (passphrase === undefined)
      throw new SdkError(
        "auth-failed",
        "this profile is encrypted: set SORI_PASSPHRASE or run sori on a terminal to be asked",
      );
    return EncryptedStorage.open(files, passphrase);
  }
  // An existing plain profile stays as it is (enrolling on it fails with a clear message).
  if (!creating || ctx.flag("no-passphrase") || (await files.list("")).length > 0) return files;
  const passphrase = await readPassphrase(ctx.io, "passphrase to encrypt this profile (empty for none): ");
  return passphrase ? EncryptedStorage.create(files, passphrase) : files;
}
