import { type ClientSettings, DEFAULT_SETTINGS } from "../messages/message-features.ts";
import { type ClientStorage, getJson, putJson } from "../storage/storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";

/** This device's privacy settings. */
export async function loadSettings(storage: ClientStorage): Promise<ClientSettings> {
  return { ...DEFAULT_SETTINGS, ...(await getJson<Partial<ClientSettings>>(storage, StorageKeys.settings)) };
}

/** Changes settings: with read receipts or typing indicators off, they are not sent. */
export async function saveSettings(
  storage: ClientStorage,
  patch: Partial<ClientSettings>,
): Promise<ClientSettings> {
  const next = { ...(await loadSettings(storage)), ...patch };
  await putJson(storage, StorageKeys.settings, next);
  return next;
}
