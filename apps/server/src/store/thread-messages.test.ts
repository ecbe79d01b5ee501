import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StoreError } from "./store-error.ts";
import {
  deserializeError,
  packCalls,
  packReplies,
  type StoreCall,
  type StoreReply,
  unpackCalls,
  serializeError,
  unpackReplies,
} from "./thread-messages.ts";

const message = (n: number, extra: object = {}): object => ({
  kind: "message",
  groupId: `group${n}`,
  messageId: `message${n}`,
  senderUserId: "user",
  senderDeviceId: "device",
  epoch: n,
  data: new Uint8Array([n, n + 1, n + 2]),
  sentAt: 1000 + n,
  ...extra,
});

describe("store calls packed for the store thread", () => {
  it("come back in their order and shape, whatever mix of calls a turn holds", () => {
    const calls: StoreCall[] = [
      { id: 1, method: "acceptMessage", args: [message(1)] },
      { id: 2, method: "ack", args: ["device-b", 17] },
      { id: 3, method: "findSession", args: ["token-hash"] },
      { id: 4, method: "acceptMessage", args: [message(4, { expiresAt: 99 })] },
      // Attachments and a commit without data take the ordinary path or the null-data form.
      { id: 5, method: "acceptMessage", args: [message(5, { blobs: ["b1"], blobsExpireAt: 7 })] },
      { id: 6, method: "acceptMessage", args: [message(6, { data: null, groupId: null, epoch: null })] },
      { id: 7, method: "acceptMessage", args: [message(7, { data: new Uint8Array(0) })] },
      { id: 8, method: "ack", args: ["device-c", 3] },
      // No expiry may come as null; the store reads absent and null alike.
      { id: 9, method: "acceptMessage", args: [message(9, { expiresAt: null })] },
    ];
    const packed = packCalls(calls);
    // As the worker receives it: cloned, with the ciphertext buffer moved.
    const received = structuredClone(packed, { transfer: [packed.bytes] });
    assert.equal(packed.bytes.byteLength, 0, "the buffer was transferred, not copied");
    const back = unpackCalls(received);
    assert.deepEqual(
      back.map((c) => ({ ...c, args: c.args.map(plainBytes) })),
      calls.map((c) => ({ ...c, args: c.args.map(plainBytes) })),
    );
    assert.equal(received.others.length, 2, "only the session lookup and the attachment went as objects");
  });
});

describe("store replies packed for the main thread", () => {
  it("come back in their order and shape", () => {
    const replies: StoreReply[] = [
      { id: 1, ok: true, value: { status: "accepted", sentAt: 5, packed: ["device-b", 9, "device-c", 10] } },
      { id: 2, ok: true, value: 3 },
      { id: 3, ok: false, error: { name: "StoreError", message: "full", code: "full" } },
      { id: 4, ok: true, value: { status: "duplicate", sentAt: 4 } },
      { id: 5, ok: true, value: undefined },
      { id: 6, ok: true, value: { status: "accepted", sentAt: 6, packed: [] } },
      { id: 7, ok: true, value: 0 },
      // A group of 60,000 devices: one pair each, more than a spread's arguments may hold.
      {
        id: 8,
        ok: true,
        value: { status: "accepted", sentAt: 8, packed: Array.from({ length: 120_000 }, (_, i) => i) },
      },
    ];
    const packed = packReplies(replies);
    assert.deepEqual(unpackReplies(structuredClone(packed)), replies);
    assert.equal(
      packed.others.length,
      3,
      "only the error, the duplicate and the empty answer went as objects",
    );
  });
});

describe("store errors across the thread boundary", () => {
  it("come back as StoreErrors with their code, cap and the cause's text", () => {
    const error = new StoreError("limit", "at most 3", { limit: 3, cause: new Error("why") });
    const back = deserializeError(structuredClone(serializeError(error)));
    assert.ok(back instanceof StoreError);
    assert.deepEqual([back.code, back.message, back.limit], ["limit", "at most 3", 3]);
    assert.equal((back.cause as Error).message, "why");
    assert.equal(
      (deserializeError(serializeError(new StoreError("full", "x"))) as StoreError).limit,
      undefined,
    );
  });
});

/** Views into the shared buffer compare equal to their own arrays once copied out; a null expiry as none. */
function plainBytes(arg: unknown): unknown {
  if (typeof arg !== "object" || arg === null || !("data" in arg)) return arg;
  const { data, expiresAt, ...rest } = arg as { data: Uint8Array | null; expiresAt?: number | null };
  return { ...rest, ...(expiresAt == null ? {} : { expiresAt }), data: data === null ? null : [...data] };
}
