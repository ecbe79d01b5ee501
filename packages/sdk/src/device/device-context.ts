import type { DeviceKeys, MemberIdentity } from "@sori/crypto";
import type { ClientRequest, ResultOf } from "@sori/protocol";
import type { ClientEvents } from "../client-events.ts";
import type { GroupStates } from "../groups/group-states.ts";
import type { ChatStore } from "../messages/chat-store.ts";
import type { ClientStorage } from "../storage/storage.ts";
import type { Mutex } from "../util/mutex.ts";
import type { TypedEmitter } from "../util/typed-emitter.ts";
import type { WarningCode } from "../warnings.ts";
import type { AccountIdentity } from "./account-identity.ts";
import type { DeviceEnrolment } from "./device-enrolment.ts";

/**
 * What every part of a device shares: who it is, where it keeps things, the one mutex under which
 * every MLS state change runs (incoming deliveries and local operations, in the server's order), the
 * client's events, and the request channel to the server.
 */
export type DeviceContext = {
  readonly enrolment: DeviceEnrolment;
  readonly identity: MemberIdentity;
  readonly keys: DeviceKeys;
  /** This device's certificate and (approved devices) its account's key. */
  readonly account: AccountIdentity;
  readonly storage: ClientStorage;
  readonly chats: ChatStore;
  readonly groups: GroupStates;
  readonly mutex: Mutex;
  readonly events: TypedEmitter<ClientEvents>;
  /**
   * Sends a request; if the connection is lost before the answer, waits for the reconnect and sends
   * it again (every request is safe to repeat).
   */
  request<R extends ClientRequest>(request: R): Promise<ResultOf<R["type"]>>;
  warn(code: WarningCode, message: string): void;
  /**
   * Runs a follow-up task outside the current delivery (which holds the mutex the task may need);
   * a failure becomes a "reconcile-failed" warning.
   */
  later(task: () => Promise<void>): void;
};
