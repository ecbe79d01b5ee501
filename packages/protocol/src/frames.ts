import { z } from "zod";
import { ProtocolError } from "./errors.ts";
import { PUSH_SUBSCRIPTION_SHAPE, PushStatus } from "./push.ts";
import { AnyUsername, Bytes, BridgedUsername, Epoch, Id, RequestId } from "./schema-parts.ts";

// ---------------------------------------------------------------------------------------------
// Client → server. Every frame is a request with an `id`; the server answers each with exactly one
// `result` or `error` frame carrying `re: id`. The one exception: an `ack` sent without `id` (feature
// level 3) is not answered, as nothing depends on the answer and it would cost a frame per delivery.
// ---------------------------------------------------------------------------------------------

const req = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), id: RequestId, ...shape }).strict();

const DeviceIds = z.array(Id).max(1000);

export const ClientFrame = z.discriminatedUnion("type", [
  /** First frame on every connection. */
  req("auth", { v: z.number().int().positive(), token: z.string().min(16).max(256) }),
  /** Adds one-time KeyPackages (and optionally replaces the last-resort one). */
  req("kp.upload", { keyPackages: z.array(Bytes).max(200), lastResort: Bytes.optional() }),
  /** How many one-time KeyPackages of this device the server still holds. */
  req("kp.status", {}),
  /** Consumes one KeyPackage of each named device (the last-resort one when none is left). */
  req("kp.claim", { deviceIds: DeviceIds.min(1) }),
  /** Looks up users (active devices and their signature keys) by username or id. */
  req("dir.users", {
    usernames: z.array(AnyUsername).max(100).optional(),
    userIds: z.array(Id).max(100).optional(),
  }),
  /**
   * Asks the gateway that owns the namespace of a bridged username to make that identity, when the
   * directory does not have it yet (feature level 6): "exists" when it has, "requested" when the
   * gateway was asked (look it up again shortly). Refused with not-found when no gateway owns the
   * namespace.
   */
  req("bridge.resolve", { username: BridgedUsername }),
  /** Looks up devices by id, revoked ones included, to check MLS credentials. */
  req("dir.devices", { deviceIds: DeviceIds.min(1) }),
  /** Registers a new group: this device plus `members`, at `epoch` (1 when created with an add commit). */
  req("group.create", {
    groupId: Id,
    epoch: Epoch,
    members: DeviceIds,
    welcome: Bytes.optional(),
  }),
  /** Submits a commit made from `epoch`; accepted only if that is the group's current epoch. */
  req("group.commit", {
    groupId: Id,
    epoch: Epoch,
    commit: Bytes,
    welcome: Bytes.optional(),
    add: DeviceIds,
    remove: DeviceIds,
  }),
  /**
   * A member device that missed a commit asks the others to re-add it: `request` is signed by the
   * device (the server passes it on as a "rejoin-request" delivery to the group's other devices).
   */
  req("group.rejoin", { groupId: Id, request: Bytes }),
  /** The server's view of a group: epoch and member devices. */
  req("group.info", { groupId: Id }),
  /** The groups this device is a member of, per the server. */
  req("group.list", {}),
  /**
   * An MLS application message for every other member device of the group. With `transient` (call
   * signalling) it is not stored: it goes only to member devices connected right now, at once.
   */
  req("send", {
    groupId: Id,
    epoch: Epoch,
    messageId: Id,
    data: Bytes,
    transient: z.boolean().optional(),
    /**
     * A transient send that rings (feature level 7): member devices of other users that are offline
     * get a "call" wake-up (Web Push). The one thing the server learns about the content.
     */
    wake: z.literal("call").optional(),
    /** A disappearing message: undelivered copies are deleted at this time (ms since epoch). */
    expiresAt: z.number().int().positive().optional(),
    /** Attachments (complete blob ids) the message refers to: kept until every recipient fetched them. */
    blobs: z.array(Id).max(100).optional(),
  }),
  /**
   * A new account's first device sets the account key and its own certificate (only while the account
   * has no key). The server checks the certificate against the key.
   */
  req("account.init", { accountKey: Bytes, certificate: Bytes }),
  /**
   * A pending device of an account with no approved device left (or whose owner lost them) makes a new
   * account key: every other device is signed out, and contacts see the safety number change.
   */
  req("account.reset", { accountKey: Bytes, certificate: Bytes }),
  /** This device's approval state, and once approved, its certificate and the sealed account key. */
  req("device.self", {}),
  /** Devices of this account waiting for approval. */
  req("device.pending", {}),
  /** Approves a pending device: its certificate (checked against the account key) and the sealed key. */
  req("device.approve", { deviceId: Id, certificate: Bytes, sealedKey: Bytes }),
  /** Refuses a pending device: it is signed out. */
  req("device.reject", { deviceId: Id }),
  /** Time-limited TURN credentials for calls (coturn's shared-secret scheme); empty when none is set up. */
  req("turn.credentials", {}),
  /**
   * Registers this device's Web Push subscription (feature level 7), replacing any it had: while the
   * device is offline the server wakes it through it. The endpoint must be on a host the operator allows.
   */
  req("push.subscribe", PUSH_SUBSCRIPTION_SHAPE),
  /** Removes this device's push subscription. */
  req("push.unsubscribe", {}),
  /** The server's VAPID public key (to subscribe with) and this device's subscription. */
  req("push.status", {}),
  /**
   * Deletes every delivered queue entry up to and including `upTo` from this device's queue. Without
   * `id` it is not answered: a lost or failed ack only means those entries are delivered again.
   */
  z
    .object({ type: z.literal("ack"), id: RequestId.optional(), upTo: z.number().int().nonnegative() })
    .strict(),
  req("ping", {}),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ClientFrameType = ClientFrame["type"];
type ClientFrameInput = z.input<typeof ClientFrame>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request as a caller writes it (wire form, bytes as base64), without the id the transport assigns. */
export type ClientRequest<T extends ClientFrameType = ClientFrameType> = DistributiveOmit<
  Extract<ClientFrameInput, { type: T }>,
  "id"
>;

// ---------------------------------------------------------------------------------------------
// Results, one shape per request type.
// ---------------------------------------------------------------------------------------------

export const DirectoryDevice = z.object({
  deviceId: Id,
  userId: Id,
  signatureKey: Bytes,
  revoked: z.boolean(),
  /** The account key's signature over the device (null while it waits for approval). A hint: clients check the MLS credential. */
  certificate: Bytes.nullable(),
});
export type DirectoryDevice = z.infer<typeof DirectoryDevice>;

export const DirectoryUser = z.object({
  userId: Id,
  username: AnyUsername,
  /** The account's identity key as the server has it (null before the first device set it). A hint: clients pin what they first saw. */
  accountKey: Bytes.nullable(),
  devices: z.array(DirectoryDevice),
  /**
   * The operator runs this account as a gateway to another network (feature level 5): only such an
   * account's calls name a party on that network (`via`), and only such an account hosts phone lines.
   */
  gateway: z.literal(true).optional(),
  /**
   * A bridged identity (feature level 6): a person on another network, whose one device a gateway
   * runs; the namespace of its username (`xmpp`). Chats with it are end-to-end encrypted only as far
   * as the gateway.
   */
  bridged: z.string().optional(),
});
export type DirectoryUser = z.infer<typeof DirectoryUser>;

export const GroupMemberInfo = z.object({ deviceId: Id, userId: Id });

/** A device of this account waiting for approval, as approving devices see it. */
export const PendingDevice = z.object({
  deviceId: Id,
  name: z.string(),
  createdAt: z.number(),
  signatureKey: Bytes,
  transferKey: Bytes,
  /** Linked with a code: the HMAC the code's showing device checks (null after a password login). */
  proof: Bytes.nullable(),
  /** The device that showed the link code (null after a password login). */
  linkedBy: Id.nullable(),
});
export type PendingDevice = z.infer<typeof PendingDevice>;

export const RESULT_SCHEMAS = {
  auth: z.object({
    userId: Id,
    username: AnyUsername,
    deviceId: Id,
    keyPackagesRemaining: z.number().int(),
    featureLevel: z.number().int(),
  }),
  "kp.upload": z.object({ remaining: z.number().int() }),
  "kp.status": z.object({ remaining: z.number().int(), hasLastResort: z.boolean() }),
  "kp.claim": z.object({
    keyPackages: z.array(z.object({ deviceId: Id, userId: Id, keyPackage: Bytes })),
    missing: z.array(Id),
  }),
  "dir.users": z.object({ users: z.array(DirectoryUser), unknown: z.array(z.string()) }),
  "bridge.resolve": z.object({ status: z.enum(["exists", "requested"]) }),
  "dir.devices": z.object({ devices: z.array(DirectoryDevice) }),
  "group.create": z.object({ groupId: Id, epoch: Epoch }),
  "group.commit": z.object({ groupId: Id, epoch: Epoch }),
  "group.info": z.object({ groupId: Id, epoch: Epoch, members: z.array(GroupMemberInfo) }),
  "group.rejoin": z.object({}),
  "group.list": z.object({ groups: z.array(z.object({ groupId: Id, epoch: Epoch })) }),
  send: z.object({ messageId: Id, sentAt: z.number(), duplicate: z.boolean() }),
  "account.init": z.object({}),
  "account.reset": z.object({}),
  "device.self": z.object({
    state: z.enum(["pending", "active"]),
    accountKey: Bytes.nullable(),
    certificate: Bytes.nullable(),
    sealedKey: Bytes.nullable(),
  }),
  "device.pending": z.object({ devices: z.array(PendingDevice) }),
  "device.approve": z.object({}),
  "device.reject": z.object({}),
  "turn.credentials": z.object({
    iceServers: z
      .array(z.object({ urls: z.array(z.string()), username: z.string(), credential: z.string() }))
      .max(1),
    ttlS: z.number().int().nonnegative(),
  }),
  "push.subscribe": z.object({}),
  "push.unsubscribe": z.object({ removed: z.boolean() }),
  "push.status": PushStatus,
  ack: z.object({ removed: z.number().int() }),
  ping: z.object({ now: z.number() }),
} satisfies Record<ClientFrameType, z.ZodType>;

export type ResultOf<T extends ClientFrameType> = z.infer<(typeof RESULT_SCHEMAS)[T]>;
/** The wire (input) form of a result, with bytes as base64: what the server serialises. */
export type WireResultOf<T extends ClientFrameType> = z.input<(typeof RESULT_SCHEMAS)[T]>;

// ---------------------------------------------------------------------------------------------
// Server → client.
// ---------------------------------------------------------------------------------------------

/**
 * "device-added": a device of `from.userId` became active. "device-pending": a device of this account
 * waits for approval (`from.deviceId`; details with `device.pending`). "device-approved": this pending
 * device was approved (details with `device.self`). "rejoin-request": a member device of `groupId` missed
 * a commit and asks to be re-added (`data`: its signed request). "bridge-wanted" (feature level 6, to a
 * gateway's devices only): someone asked for a bridged identity in its namespace that does not exist
 * yet (`data`: the username, UTF-8); the gateway makes it if the address is one it can reach.
 */
export const DELIVERY_KINDS = [
  "message",
  "commit",
  "welcome",
  "device-added",
  "device-pending",
  "device-approved",
  "rejoin-request",
  "bridge-wanted",
] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];

export const Delivery = z.object({
  type: z.literal("deliver"),
  /** Position in this device's queue; ack up to it once processed. Increases monotonically. */
  seq: z.number().int().nonnegative(),
  kind: z.enum(DELIVERY_KINDS),
  groupId: Id.optional(),
  /** Sender-chosen id; the same id twice is the same message (drop the duplicate). */
  messageId: Id,
  from: z.object({ userId: Id, deviceId: Id }),
  /** The group's epoch the message belongs to (for commits: the epoch it was made from). */
  epoch: Epoch.optional(),
  data: Bytes.optional(),
  sentAt: z.number(),
});
export type Delivery = z.infer<typeof Delivery>;

/**
 * A transient message (call signalling) pushed to a connected member device: never stored, never
 * acknowledged, and not part of the queue order.
 */
export const Relay = z.object({
  type: z.literal("relay"),
  groupId: Id,
  messageId: Id,
  from: z.object({ userId: Id, deviceId: Id }),
  epoch: Epoch,
  data: Bytes,
  sentAt: z.number(),
});
export type Relay = z.infer<typeof Relay>;
export type WireRelay = z.input<typeof Relay>;

export const ServerFrame = z.discriminatedUnion("type", [
  z.object({ type: z.literal("result"), re: RequestId, result: z.unknown() }),
  z.object({
    type: z.literal("error"),
    re: RequestId.optional(),
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
  Delivery,
  /** Sent when this device's one-time KeyPackages run low. */
  z.object({ type: z.literal("kp.low"), remaining: z.number().int() }),
  Relay,
  /** Everything queued at connect time has been pushed (live deliveries follow). */
  z.object({ type: z.literal("synced"), upTo: z.number().int() }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
export type WireDelivery = z.input<typeof Delivery>;

// ---------------------------------------------------------------------------------------------
// Parsing at the edge.
// ---------------------------------------------------------------------------------------------

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "frame"}: ${i.message}`)
    .join("; ");
}

/** Parses an untrusted client frame. Throws ProtocolError("bad-frame") with the reason. */
export function parseClientFrame(text: string): ClientFrame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProtocolError("bad-frame", "frame is not valid JSON");
  }
  const parsed = ClientFrame.safeParse(json);
  if (!parsed.success) throw new ProtocolError("bad-frame", `invalid frame: ${describe(parsed.error)}`);
  return parsed.data;
}

/** Best effort: the request id of a frame that failed to parse, so the error can refer to it. */
export function peekRequestId(text: string): string | number | undefined {
  try {
    const json: unknown = JSON.parse(text);
    if (json && typeof json === "object" && "id" in json) {
      const id = (json as { id: unknown }).id;
      if ((typeof id === "string" && id.length <= 64) || (typeof id === "number" && Number.isInteger(id)))
        return id;
    }
  } catch {
    // Not JSON: there is no id to refer to.
  }
  return undefined;
}

/** Parses a frame from the server. A malformed one is a ProtocolError("bad-frame"). */
export function parseServerFrame(text: string): ServerFrame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProtocolError("bad-frame", "server frame is not valid JSON");
  }
  const parsed = ServerFrame.safeParse(json);
  if (!parsed.success)
    throw new ProtocolError("bad-frame", `invalid server frame: ${describe(parsed.error)}`);
  return parsed.data;
}

/** Parses the `result` payload of a response to a request of type T. */
export function parseResult<T extends ClientFrameType>(type: T, result: unknown): ResultOf<T> {
  const parsed = RESULT_SCHEMAS[type].safeParse(result);
  if (!parsed.success)
    throw new ProtocolError("bad-frame", `invalid ${type} result: ${describe(parsed.error)}`);
  return parsed.data as ResultOf<T>;
}
