import { type AuthResponse, type DeviceUpload, ProtocolError } from "@sori/protocol";
import { newId } from "../ids.ts";
import type { Sessions } from "../sessions.ts";
import type { Store } from "../store/store.ts";

/**
 * Makes an account with its first device and that device's session, for a registration and for a
 * gateway's bridged identity alike. The first device makes the account key itself (account.init)
 * before it can do anything else, hence "init-required".
 */
export async function createAccount(
  deps: { store: Store; sessions: Sessions },
  account: {
    username: string;
    passwordHash: string;
    device: Pick<DeviceUpload, "name" | "signatureKey">;
    /** The refusal's text when the username is taken. */
    takenMessage: string;
  },
): Promise<AuthResponse> {
  const userId = newId();
  const deviceId = newId();
  const now = Date.now();
  const { token, session } = deps.sessions.issue(deviceId);
  const outcome = await deps.store.createUserWithDevice(
    {
      userId,
      username: account.username,
      passwordHash: account.passwordHash,
      createdAt: now,
      accountKey: null,
    },
    {
      deviceId,
      userId,
      name: account.device.name,
      signatureKey: account.device.signatureKey,
      createdAt: now,
    },
    session,
  );
  if (outcome === "username-taken") throw new ProtocolError("username-taken", account.takenMessage);
  return { userId, username: account.username, deviceId, token, approval: "init-required", accountKey: null };
}
