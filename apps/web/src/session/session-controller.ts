import { type ClientStorage, SdkError, SoriClient } from "@sori/sdk";
import { IndexedDbStorage } from "@sori/sdk/browser";
import { CallStore } from "../calls/call-store.ts";
import { browserDeviceName } from "../lib/device-name.ts";
import { ChatsStore } from "./chats-store.ts";
import { ProfileStore } from "./profile-store.ts";

export type SignedIn = {
  status: "signed-in";
  client: SoriClient;
  chats: ChatsStore;
  profiles: ProfileStore;
  calls: CallStore;
};

export type Session =
  | { status: "loading" }
  /** IndexedDB could not be opened, or what it holds cannot be read. */
  | { status: "unavailable" }
  /** `notice` says why the person is looking at the sign-in screen again, if not by choice. */
  | { status: "signed-out"; notice: "revoked" | null }
  | SignedIn;

/** Codes that mean the server no longer accepts this device's session: it was signed out elsewhere. */
const REVOKED_CODES = new Set(["unauthenticated", "auth-failed"]);

/**
 * Owns this browser's device: opens its encrypted storage, signs in or up, keeps the SDK client
 * connected, and signs out. Lives outside React so a re-render can never open a second client.
 */
export class SessionController {
  readonly #serverUrl: string;
  readonly #listeners = new Set<() => void>();
  #state: Session = { status: "loading" };
  #storage: ClientStorage | undefined;

  constructor(serverUrl: string) {
    this.#serverUrl = serverUrl;
  }

  readonly getSnapshot = (): Session => this.#state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  #set(state: Session): void {
    this.#state = state;
    for (const l of this.#listeners) l();
  }

  async start(): Promise<void> {
    try {
      // One database per server, so one browser profile can hold devices of several servers.
      this.#storage = await IndexedDbStorage.open(`sori:${this.#serverUrl}`);
    } catch {
      this.#set({ status: "unavailable" });
      return;
    }
    try {
      this.#signedIn(await SoriClient.open(this.#storage));
    } catch (error) {
      if (error instanceof SdkError && error.code === "not-logged-in")
        this.#set({ status: "signed-out", notice: null });
      else this.#set({ status: "unavailable" });
    }
  }

  /** Signs up or in; throws the SdkError for the form to explain. */
  async enroll(mode: "register" | "login", username: string, password: string): Promise<void> {
    const storage = this.#storage;
    if (!storage) throw new SdkError("storage", "storage is not open");
    const options = {
      serverUrl: this.#serverUrl,
      username,
      password,
      storage,
      deviceName: browserDeviceName(navigator.userAgent),
    };
    await this.#enrolThenOpen(storage, async () => {
      if (mode === "register") await SoriClient.register(options);
      else await SoriClient.login(options);
    });
  }

  /**
   * Runs a sign-up, sign-in or link, then opens the stored profile. The account and device may exist
   * although the first connection failed afterwards: the profile is then stored and the client keeps
   * trying in the background like after any reload, so only a failure with no profile is thrown.
   */
  async #enrolThenOpen(storage: ClientStorage, enrol: () => Promise<unknown>): Promise<void> {
    try {
      await enrol();
    } catch (error) {
      const client = await SoriClient.open(storage).catch(() => undefined);
      if (!client) throw error;
      this.#signedIn(client);
      return;
    }
    this.#signedIn(await SoriClient.open(storage));
  }

  /**
   * Joins the account of a signed-in device that shows a link code, instead of a password. `code`
   * is the typed code, or the pasted QR payload ("sori-link:…", which names the server).
   */
  async link(code: string): Promise<void> {
    const storage = this.#storage;
    if (!storage) throw new SdkError("storage", "storage is not open");
    const deviceName = browserDeviceName(navigator.userAgent);
    const value = code.trim();
    await this.#enrolThenOpen(storage, () =>
      value.startsWith("sori-link:")
        ? SoriClient.linkDevice({ qr: value, storage, deviceName })
        : SoriClient.linkDevice({
            serverUrl: this.#serverUrl,
            code: value.toUpperCase(),
            storage,
            deviceName,
          }),
    );
  }

  #signedIn(client: SoriClient): void {
    const state: SignedIn = {
      status: "signed-in",
      client,
      chats: new ChatsStore(client),
      profiles: new ProfileStore(client),
      // Before connect(): a device rings only once calls are configured on it.
      calls: new CallStore(client),
    };
    this.#set(state);
    client.on("warning", (w) => {
      if (REVOKED_CODES.has(w.code)) void this.#forget(state, "revoked");
    });
    // connect() rejects when the server is unreachable but keeps reconnecting in the background; the
    // header shows the connection state, so only a refused session needs handling here.
    client.connect().catch((error: unknown) => {
      if (error instanceof SdkError && REVOKED_CODES.has(error.code)) void this.#forget(state, "revoked");
    });
  }

  /** Revokes this device on the server and deletes its local data. */
  async signOut(): Promise<void> {
    const state = this.#state;
    if (state.status !== "signed-in") return;
    try {
      await state.client.logout();
    } catch (error) {
      // Already revoked elsewhere: nothing left to tell the server, only local data to delete.
      if (error instanceof SdkError && REVOKED_CODES.has(error.code)) return this.#forget(state, null);
      throw error;
    }
    this.#dispose(state);
    this.#set({ status: "signed-out", notice: null });
  }

  /** Deletes this device's local data after its session was refused (revoked from another device). */
  async #forget(state: SignedIn, notice: "revoked" | null): Promise<void> {
    if (this.#state !== state) return;
    this.#dispose(state);
    await state.client.close().catch(() => undefined);
    await this.resetStorage();
    this.#set({ status: "signed-out", notice });
  }

  /** Deletes everything stored for this server in this browser. */
  async resetStorage(): Promise<void> {
    const storage = this.#storage;
    if (!storage) return;
    for (const key of await storage.list("")) await storage.delete(key);
    if (this.#state.status === "unavailable") this.#set({ status: "signed-out", notice: null });
  }

  #dispose(state: SignedIn): void {
    state.chats.dispose();
    state.profiles.dispose();
    state.calls.dispose();
  }
}
