// Test-only: fast-check generators of valid wire frames and of mutations of them, for the fuzz tests
// of the parsers (packages/protocol) and of a running server (tests/integration). Not exported from
// the package index, so nothing ships it.
import fc from "fast-check";
import { toBase64, toBase64Url } from "./base64.ts";

export type JsonFrame = Record<string, unknown>;

const arbId: fc.Arbitrary<string> = fc.stringMatching(/^[A-Za-z0-9_-]{22}$/);
const arbBytes: fc.Arbitrary<string> = fc.uint8Array({ maxLength: 64 }).map((b) => toBase64(b));
const arbEpoch = fc.nat({ max: 1000 });
const arbIds = fc.array(arbId, { maxLength: 4 });
const arbUsername = fc.stringMatching(/^[A-Za-z0-9_.-]{3,12}$/);

/** Every client request type with valid fields (the `id` is added by the caller). */
export const arbClientRequest: fc.Arbitrary<JsonFrame> = fc.oneof(
  fc.record({
    type: fc.constant("auth"),
    v: fc.integer({ min: 1, max: 3 }),
    token: fc.string({ minLength: 16, maxLength: 64 }),
  }),
  fc.record(
    {
      type: fc.constant("kp.upload"),
      keyPackages: fc.array(arbBytes, { maxLength: 3 }),
      lastResort: arbBytes,
    },
    { requiredKeys: ["type", "keyPackages"] },
  ),
  fc.record({ type: fc.constant("kp.status") }),
  fc.record({ type: fc.constant("kp.claim"), deviceIds: fc.array(arbId, { minLength: 1, maxLength: 3 }) }),
  fc.record(
    { type: fc.constant("dir.users"), usernames: fc.array(arbUsername, { maxLength: 3 }), userIds: arbIds },
    { requiredKeys: ["type"] },
  ),
  fc.record({ type: fc.constant("dir.devices"), deviceIds: fc.array(arbId, { minLength: 1, maxLength: 3 }) }),
  fc.record(
    {
      type: fc.constant("group.create"),
      groupId: arbId,
      epoch: arbEpoch,
      members: arbIds,
      welcome: arbBytes,
    },
    { requiredKeys: ["type", "groupId", "epoch", "members"] },
  ),
  fc.record(
    {
      type: fc.constant("group.commit"),
      groupId: arbId,
      epoch: arbEpoch,
      commit: arbBytes,
      welcome: arbBytes,
      add: arbIds,
      remove: arbIds,
    },
    { requiredKeys: ["type", "groupId", "epoch", "commit", "add", "remove"] },
  ),
  fc.record({ type: fc.constant("group.info"), groupId: arbId }),
  fc.record({ type: fc.constant("group.list") }),
  fc.record({ type: fc.constant("send"), groupId: arbId, epoch: arbEpoch, messageId: arbId, data: arbBytes }),
  fc.record({
    type: fc.constant("push.subscribe"),
    // Not an allowed host on any test server, so a fuzzed subscription never makes the server send.
    endpoint: fc.constant("https://push.invalid/endpoint"),
    keys: fc.record({
      p256dh: fc
        .uint8Array({ minLength: 65, maxLength: 65 })
        .map((b) => toBase64Url(Uint8Array.from([4, ...b.subarray(1)]))),
      auth: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => toBase64Url(b)),
    }),
  }),
  fc.record({ type: fc.constant("push.unsubscribe") }),
  fc.record({ type: fc.constant("push.status") }),
  fc.record({ type: fc.constant("ack"), upTo: fc.nat() }),
  fc.record({ type: fc.constant("ping") }),
);

/** Any JSON value, nested a little: the shapes a hostile peer can send. */
export const arbJsonValue: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });

/** One way of breaking (or not) a frame: drop, replace or add a field, or retype the whole thing. */
export function arbMutation(frame: JsonFrame): fc.Arbitrary<unknown> {
  const keys = Object.keys(frame);
  const key = fc.constantFrom(...keys);
  return fc.oneof(
    key.map((k) => {
      const copy = { ...frame };
      delete copy[k];
      return copy;
    }),
    fc.tuple(key, arbJsonValue).map(([k, v]) => ({ ...frame, [k]: v })),
    fc
      .tuple(key, fc.constantFrom(-1, 1.5, 2 ** 60, "", "x".repeat(300), null, [], {}, true, "@@@@", "AAAA"))
      .map(([k, v]) => ({ ...frame, [k]: v })),
    fc.tuple(fc.string({ maxLength: 12 }), arbJsonValue).map(([k, v]) => ({ ...frame, [k]: v })),
    fc.constantFrom(null, [], "frame", 42, [frame]),
  );
}

/** Raw text: truncated, spliced or random JSON text of a frame. */
export function arbTextMutation(text: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n)),
    fc
      .tuple(fc.nat({ max: text.length }), fc.string({ maxLength: 8 }))
      .map(([i, s]) => text.slice(0, i) + s + text.slice(i)),
    fc.nat({ max: Math.max(0, text.length - 1) }).map((i) => text.slice(0, i) + text.slice(i + 1)),
    fc.string({ maxLength: 64 }),
    fc.string({ unit: "binary", maxLength: 64 }),
  );
}
