import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { afterAttempt, DEFAULT_RETRY, retryAfterMs } from "./push-retry.ts";

const far = Number.MAX_SAFE_INTEGER;
const half = (): number => 0.5;

describe("push retries", () => {
  it("ends on success, gone subscriptions and refusals; retries 429, 5xx and no answer", () => {
    assert.deepEqual(afterAttempt({ status: 201 }, 1, 0, far, DEFAULT_RETRY), { done: "sent" });
    assert.deepEqual(afterAttempt({ status: 410 }, 1, 0, far, DEFAULT_RETRY), { done: "gone" });
    assert.deepEqual(afterAttempt({ status: 404 }, 1, 0, far, DEFAULT_RETRY), { done: "gone" });
    for (const status of [400, 401, 403, 413])
      assert.deepEqual(
        afterAttempt({ status }, 1, 0, far, DEFAULT_RETRY),
        { done: "refused" },
        String(status),
      );
    for (const a of [{ status: 429 }, { status: 500 }, { status: 503 }, { failed: "ECONNREFUSED" }])
      assert.ok("retryInMs" in afterAttempt(a, 1, 0, far, DEFAULT_RETRY), JSON.stringify(a));
  });

  it("backs off doubling, honours Retry-After, and stops after the last attempt or past the deadline", () => {
    const timings = { attempts: 4, baseMs: 1000, maxWaitMs: 60_000 };
    assert.deepEqual(afterAttempt({ status: 503 }, 1, 0, far, timings, half), { retryInMs: 750 });
    assert.deepEqual(afterAttempt({ status: 503 }, 3, 0, far, timings, half), { retryInMs: 3000 });
    assert.deepEqual(afterAttempt({ status: 429, retryAfterMs: 7000 }, 1, 0, far, timings), {
      retryInMs: 7000,
    });
    assert.deepEqual(afterAttempt({ status: 503 }, 4, 0, far, timings), { done: "gave-up" });
    assert.deepEqual(afterAttempt({ status: 429, retryAfterMs: 120_000 }, 1, 0, far, timings), {
      done: "gave-up",
    });
    assert.deepEqual(afterAttempt({ status: 429, retryAfterMs: 5000 }, 1, 0, 4000, timings), {
      done: "gave-up",
    });
  });

  it("reads Retry-After as seconds or as a date", () => {
    const now = Date.parse("2026-12-05T12:00:00Z");
    assert.equal(retryAfterMs("3", now), 3000);
    assert.equal(retryAfterMs("Sat, 05 Dec 2026 12:00:10 GMT", now), 10_000);
    assert.equal(retryAfterMs(undefined, now), undefined);
    assert.equal(retryAfterMs("soon", now), undefined);
  });
});
