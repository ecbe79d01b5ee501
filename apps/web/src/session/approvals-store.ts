import { type DeviceApprovalRequest, SdkError, type SoriClient } from "@sori/sdk";

export type ApprovalsSnapshot = {
  /** Sign-ins of this account that wait for approval, oldest first. */
  requests: DeviceApprovalRequest[];
  /** The one the approval prompt shows now (one at a time), unless put off with "later". */
  prompt: DeviceApprovalRequest | null;
};

/** While requests wait, how often the list is asked again (one may be approved or refused elsewhere). */
const POLL_MS = 5000;

/**
 * The account's sign-ins waiting for approval, as this (approved) device sees them: from the SDK's
 * `device-approval` event and `pendingDevices()` at start and after each reconnect, for the approval
 * prompt and Settings → Devices. Also remembers which new devices this device approved itself, so the
 * "a new device was added" warning does not ask about a device the person just let in here.
 */
export class ApprovalsStore {
  readonly #client: SoriClient;
  readonly #listeners = new Set<() => void>();
  readonly #unsubscribe: (() => void)[];
  readonly #putOff = new Set<string>();
  readonly #approvedHere = new Set<string>();
  #snapshot: ApprovalsSnapshot = { requests: [], prompt: null };
  #poll: ReturnType<typeof setInterval> | undefined;
  #linking = 0;
  #disposed = false;

  constructor(client: SoriClient) {
    this.#client = client;
    this.#unsubscribe = [
      client.on("device-approval", (r) =>
        this.#update([...this.#requests().filter((x) => x.deviceId !== r.deviceId), r]),
      ),
      // Approved (here, on another device, or by a link code): no longer waiting.
      client.on("own-device", (d) => this.#drop(d.deviceId)),
      client.on("connection", (state) => {
        if (state === "connected") this.refresh();
      }),
    ];
    this.refresh();
  }

  readonly getSnapshot = (): ApprovalsSnapshot => this.#snapshot;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Asks the server again which sign-ins wait (a device not approved itself has none to show). */
  refresh(): void {
    if (this.#disposed || this.#client.approval !== "approved") return;
    this.#client
      .pendingDevices()
      .then((list) => this.#update(list))
      // Offline: the next reconnect asks again.
      .catch(() => undefined);
  }

  /** Approves a waiting sign-in; rejects with the SDK's error ("not-found": it no longer waits). */
  async approve(deviceId: string): Promise<void> {
    this.#approvedHere.add(deviceId);
    try {
      await this.#client.approveDevice(deviceId);
    } catch (error) {
      this.#approvedHere.delete(deviceId);
      this.#dropIfGone(error, deviceId);
      throw error;
    }
    this.#drop(deviceId);
  }

  /** Refuses a waiting sign-in: the server signs that device out. */
  async reject(deviceId: string): Promise<void> {
    try {
      await this.#client.rejectDevice(deviceId);
    } catch (error) {
      this.#dropIfGone(error, deviceId);
      throw error;
    }
    this.#drop(deviceId);
  }

  /** Closes the prompt for one request; it stays listed in Settings → Devices. */
  putOff(deviceId: string): void {
    this.#putOff.add(deviceId);
    this.#update(this.#requests());
  }

  /**
   * While a link dialog shows a code, the device that uses it is expected: the dialog names it, so
   * the "new device" warning stays quiet. Returns the function that ends the wait.
   */
  expectLink(): () => void {
    this.#linking++;
    let ended = false;
    return () => {
      if (!ended) this.#linking--;
      ended = true;
    };
  }

  /** Whether a new device needs no warning: this device approved it, or a link dialog here expects it. */
  expected(deviceId: string): boolean {
    return this.#linking > 0 || this.#approvedHere.has(deviceId);
  }

  /** Whether this device approved `deviceId` itself (the person saw its code here). */
  approvedHere(deviceId: string): boolean {
    return this.#approvedHere.has(deviceId);
  }

  dispose(): void {
    this.#disposed = true;
    clearInterval(this.#poll);
    for (const u of this.#unsubscribe) u();
    this.#listeners.clear();
  }

  #requests(): DeviceApprovalRequest[] {
    return this.#snapshot.requests;
  }

  #drop(deviceId: string): void {
    this.#update(this.#requests().filter((r) => r.deviceId !== deviceId));
  }

  #dropIfGone(error: unknown, deviceId: string): void {
    if (error instanceof SdkError && error.code === "not-found") this.#drop(deviceId);
  }

  #update(requests: DeviceApprovalRequest[]): void {
    if (this.#disposed) return;
    const sorted = [...requests].sort((a, b) => a.createdAt - b.createdAt);
    this.#snapshot = { requests: sorted, prompt: sorted.find((r) => !this.#putOff.has(r.deviceId)) ?? null };
    // Poll only while something waits.
    if (sorted.length > 0 && this.#poll === undefined)
      this.#poll = setInterval(() => this.refresh(), POLL_MS);
    else if (sorted.length === 0 && this.#poll !== undefined) {
      clearInterval(this.#poll);
      this.#poll = undefined;
    }
    for (const l of this.#listeners) l();
  }
}
