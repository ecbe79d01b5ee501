import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError } from "@sori/protocol";
import type { Logger } from "./logger.ts";
import { toProtocolError } from "./request-errors.ts";
import { StoreError } from "./store/store-error.ts";

const recording = (): Logger & { lines: [string, unknown][] } => {
  const lines: [string, unknown][] = [];
  const log = (event: string, fields?: unknown): void => {
    lines.push([event, fields]);
  };
  return { lines, debug: log, info: log, warn: log, error: log };
};

const shape = (e: ProtocolError): unknown => ({ code: e.code, message: e.message, details: e.details });

describe("toProtocolError: what a client is told of a failure", () => {
  it("passes protocol errors through and tells nothing else of a bug than internal", () => {
    const log = recording();
    const own = new ProtocolError("not-member", "no");
    assert.equal(toProtocolError(own, log, "send"), own);
    assert.deepEqual(shape(toProtocolError(new TypeError("secret detail"), log, "POST /api/v1/login")), {
      code: "internal",
      message: "internal server error",
      details: {},
    });
    assert.deepEqual(log.lines, [["request.failed", { request: "POST /api/v1/login", error: "TypeError" }]]);
  });

  it("maps each StoreError code once, for HTTP and WebSocket alike", () => {
    const log = recording();
    const cause = new Error("SQLITE_FULL");
    assert.deepEqual(shape(toProtocolError(new StoreError("full", "x", { cause }), log, "send")), {
      code: "storage-unavailable",
      message: "the server's storage is full; nothing was changed, retry later",
      details: { retryAfterS: 5 },
    });
    assert.deepEqual(shape(toProtocolError(new StoreError("unavailable", "x"), log, "ack")), {
      code: "storage-unavailable",
      message: "the server could not store this; nothing was changed, retry later",
      details: { retryAfterS: 5 },
    });
    assert.deepEqual(log.lines, [
      ["store.failed", { code: "full", request: "send", cause: "SQLITE_FULL" }],
      ["store.failed", { code: "unavailable", request: "ack", cause: "undefined" }],
    ]);
    assert.deepEqual(
      shape(toProtocolError(new StoreError("limit", "at most 4", { limit: 4 }), log, "kp.upload")),
      {
        code: "too-large",
        message: "at most 4",
        details: { limit: 4 },
      },
    );
    assert.equal(
      toProtocolError(new StoreError("unknown-device", "x"), log, "group.create").code,
      "bad-request",
    );
    assert.equal(log.lines.length, 2, "refusals of the request itself are not logged as failures");
  });
});
