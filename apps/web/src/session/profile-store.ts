import type { SoriClient } from "@sori/sdk";
import { imageBlobUrl } from "../lib/media-type.ts";
import { cleanDisplayName } from "../lib/person-name.ts";

/** A user's profile as the app shows it: the avatar is an object URL ready for an <img>. */
export type ProfileView = { displayName: string | null; avatarUrl: string | null };

const EMPTY: ProfileView = { displayName: null, avatarUrl: null };

/**
 * Display names and avatars of the people this device knows, fetched from the SDK on first use and
 * again when a `profile` event says they changed.
 */
export class ProfileStore {
  readonly #client: SoriClient;
  readonly #profiles = new Map<string, ProfileView>();
  readonly #loading = new Set<string>();
  /** Profiles that changed while being loaded: loaded again right after. */
  readonly #stale = new Set<string>();
  readonly #listeners = new Set<() => void>();
  readonly #unsubscribe: () => void;
  #disposed = false;

  constructor(client: SoriClient) {
    this.#client = client;
    this.#unsubscribe = client.on("profile", ({ userId }) => {
      if (this.#profiles.has(userId)) void this.#load(userId);
    });
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** The cached profile; call ensure() to have it loaded. */
  peek(userId: string): ProfileView {
    return this.#profiles.get(userId) ?? EMPTY;
  }

  ensure(userId: string): void {
    if (!this.#profiles.has(userId)) void this.#load(userId);
  }

  /** Reloads one profile now (after this user changed their own). */
  reload(userId: string): Promise<void> {
    return this.#load(userId);
  }

  async #load(userId: string): Promise<void> {
    if (this.#disposed) return;
    if (this.#loading.has(userId)) {
      this.#stale.add(userId);
      return;
    }
    this.#loading.add(userId);
    try {
      const p = await this.#client.profile(userId);
      if (this.#disposed) return;
      const avatarUrl = p.avatar ? imageBlobUrl(p.avatar) : null;
      const old = this.#profiles.get(userId);
      if (old?.avatarUrl) URL.revokeObjectURL(old.avatarUrl);
      this.#profiles.set(userId, { displayName: cleanDisplayName(p.displayName), avatarUrl });
      for (const l of this.#listeners) l();
    } catch {
      // Unknown profile: keep showing the username and a coloured initial.
      if (!this.#profiles.has(userId)) this.#profiles.set(userId, EMPTY);
    } finally {
      this.#loading.delete(userId);
      if (this.#stale.delete(userId)) void this.#load(userId);
    }
  }

  dispose(): void {
    this.#disposed = true;
    this.#unsubscribe();
    for (const p of this.#profiles.values()) if (p.avatarUrl) URL.revokeObjectURL(p.avatarUrl);
    this.#profiles.clear();
    this.#listeners.clear();
  }
}
