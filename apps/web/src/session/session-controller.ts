import { type ClientStorage, getJson, putJson, SdkError, SoriClient } from "@sori/sdk";
import { IndexedDbStorage } from "@sori/sdk/browser";
import { CallStore } from "../calls/call-store.ts";
import { browserDeviceName } from "../lib/device-name.ts";
import { ApprovalsStore } from "./approvals-store.ts";
import { ChatsStore } from "./chats-store.ts";
import { ProfileStore } from "./profile-store.ts";

export type SignedIn = {
  status: "signed-in";
  client: SoriClient;
  chats: ChatsStore;
  profiles: ProfileStore;
  calls: CallStore;
  approvals: ApprovalsStore;
  /** Said once when the session starts: this sign-in gave the account a new identity key. */
  notice: "identity-reset" | null;
};

/**
 * A device that signed in (with the password, or a link code) and waits until another device of the
 * account approves it. `code` is what both devices show, to compare.
 */
export type PendingApproval = {
  status: "pending-approval";
  client: SoriClient;
  via: "login" | "link";
  code: string | null;
};

export type Session =
  | { status: "loading" }
  /** IndexedDB could not be opened, or what it holds cannot be read. */
  | { status: "unavailable" }
  /** `notice` says why the person is looking at the sign-in screen again, if not by choice. */
  | { status: "signed-out"; notice: "revoked" | "rejected" | null }
  | PendingApproval
  | SignedIn;

/** Codes that mean the server no longer accepts this device's session: it was signed out elsewhere. */
const REVOKED_CODES = new Set(["unauthenticated", "auth-failed"]);
/** How a waiting device signed in, kept with its data so a reload shows the same waiting screen. */
const VIA_KEY = "web/approval-via";
/** One wait for approval; afterwards the screen simply waits again (the server expires it after a day). */
const APPROVAL_WAIT_MS = 10 * 60_000;
/** Before waiting again after a failure that is not a refusal (the network, mostly). */
const RETRY_MS = 3000;

/**
 * Owns this browser's device: opens its encrypted storage, signs in or up, keeps the SDK client
 * connected, and signs out. Lives outside React so a re-render can never open a second client.
 */
export class SessionController {
  readonly #serverUrl: string;
  readonly #listeners = new Set<() => void>();
  #state: Session = { status: "loading" };
  #storage: ClientStorage | undefined;
  /** The waiting device chose to give the account a new identity key (see resetIdentity). */
  #resetting = false;

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
      await this.#opened(await SoriClient.open(this.#storage));
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
    await this.#enrolThenOpen(storage, mode === "register" ? null : "login", () =>
      mode === "register" ? SoriClient.register(options) : SoriClient.login(options),
    );
  }

  /**
   * Runs a sign-up, sign-in or link, then opens the stored profile. The account and device may exist
   * although the first connection failed afterwards: the profile is then stored and the client keeps
   * trying in the background like after any reload, so only a failure with no profile is thrown.
   */
  async #enrolThenOpen(
    storage: ClientStorage,
    via: PendingApproval["via"] | null,
    enrol: () => Promise<SoriClient>,
  ): Promise<void> {
    let client: SoriClient | undefined;
    try {
      await enrol();
    } catch (error) {
      client = await SoriClient.open(storage).catch(() => undefined);
      if (!client) throw error;
    }
    client ??= await SoriClient.open(storage);
    const joined = await client.signedInAs();
    if (via && client.approval !== "approved") {
      await putJson(storage, VIA_KEY, via);
      return this.#waitForApproval(client, via);
    }
    this.#signedIn(client, via === "login" && joined === "reset-required" ? "identity-reset" : null);
  }

  /** Opens the stored device at start: into the app, or back to the waiting screen if it waited. */
  async #opened(client: SoriClient): Promise<void> {
    const storage = this.#storage;
    const via = storage ? await getJson<PendingApproval["via"]>(storage, VIA_KEY) : undefined;
    // The mark is removed once the device is approved; if that happened while the page was closed,
    // the waiting screen moves on as soon as the client has connected.
    if (via && client.approval !== "approved") return this.#waitForApproval(client, via);
    this.#signedIn(client, null);
  }

  /** Shows the waiting screen and waits, connected, until the account approves this device. */
  async #waitForApproval(client: SoriClient, via: PendingApproval["via"]): Promise<void> {
    const state: PendingApproval = {
      status: "pending-approval",
      client,
      via,
      code: (await client.approvalCode()) ?? null,
    };
    this.#set(state);
    void this.#awaitApproval(state);
  }

  /** Waits (again after each timeout) until the waiting device is approved, refused or given up. */
  async #awaitApproval(state: PendingApproval): Promise<void> {
    const { client } = state;
    const approved = (): void => void this.#approved(state);
    // connect() resolves while the device still waits, or approved if that happened while the page
    // was closed; a refused token means the sign-in was rejected meanwhile.
    client
      .connect()
      .then(() => {
        if (client.approval === "approved") approved();
      })
      .catch((error: unknown) => {
        if (error instanceof SdkError && REVOKED_CODES.has(error.code)) void this.#rejected(state);
      });
    for (;;) {
      try {
        await client.waitForApproval({ timeoutMs: APPROVAL_WAIT_MS });
        return approved();
      } catch (error) {
        if (this.#state !== state) return;
        const code = error instanceof SdkError ? error.code : "";
        if (code === "approval-rejected" || REVOKED_CODES.has(code)) return this.#rejected(state);
        if (code !== "timeout") await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /** The account approved the waiting device (or it made a new identity key): into the app. */
  async #approved(state: PendingApproval): Promise<void> {
    if (this.#state !== state) return;
    const reset = this.#resetting;
    this.#resetting = false;
    this.#signedIn(state.client, reset ? "identity-reset" : null);
    await this.#storage?.delete(VIA_KEY);
  }

  /** The waiting device was refused (or signed out): its data goes, and the sign-in screen says why. */
  async #rejected(state: PendingApproval): Promise<void> {
    if (this.#state !== state) return;
    await state.client.close().catch(() => undefined);
    await this.resetStorage();
    this.#set({ status: "signed-out", notice: "rejected" });
  }

  /** Gives up waiting: signs the waiting device out on the server and deletes its data. */
  async cancelApproval(): Promise<void> {
    const state = this.#state;
    if (state.status !== "pending-approval") return;
    // Whatever the server answers, this browser stops being that device.
    this.#set({ status: "loading" });
    await state.client.logout().catch(async () => {
      await state.client.close().catch(() => undefined);
      await this.resetStorage();
    });
    this.#set({ status: "signed-out", notice: null });
  }

  /**
   * For a person with no other device left: this waiting device gives the account a new identity
   * key (every other device is signed out; contacts see the safety number change) and goes on.
   */
  async resetIdentity(): Promise<void> {
    const state = this.#state;
    if (state.status !== "pending-approval") return;
    this.#resetting = true;
    try {
      await state.client.resetIdentity();
    } catch (error) {
      this.#resetting = false;
      throw error;
    }
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
    await this.#enrolThenOpen(storage, "link", () =>
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

  #signedIn(client: SoriClient, notice: SignedIn["notice"]): void {
    const state: SignedIn = {
      status: "signed-in",
      client,
      chats: new ChatsStore(client),
      profiles: new ProfileStore(client),
      // Before connect(): a device rings only once calls are configured on it.
      calls: new CallStore(client),
      approvals: new ApprovalsStore(client),
      notice,
    };
    this.#set(state);
    client.on("warning", (w) => {
      if (REVOKED_CODES.has(w.code)) void this.#forget(state, "revoked");
    });
    // Signed out elsewhere (a device list, a password change, an identity reset): the server drops the
    // link and refuses the token on reconnecting, and the client says so.
    client.on("signed-out", (s) => {
      if (REVOKED_CODES.has(s.code)) void this.#forget(state, "revoked");
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
    state.approvals.dispose();
  }
}
