import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ERROR_CODES, parseClientFrame } from "@sori/protocol";
import fc from "fast-check";
import {
  arbClientRequest,
  arbJsonValue,
  arbMutation,
  arbTextMutation,
} from "../../packages/protocol/src/frame-arbitraries.ts";
import { dumpDatabase, rawAuth, startTestServer, type TestServer } from "../helpers.ts";
import { type Frame, type RawSocket, rawSocket } from "../raw-socket.ts";

const PUSHES = new Set(["deliver", "synced", "kp.low"]);

/** Random and mutated frames: valid requests, broken ones, and broken text. */
const arbFrameText: fc.Arbitrary<string> = fc
  .tuple(arbClientRequest, fc.oneof(fc.nat(), fc.string({ maxLength: 8 })))
  .chain(([req, id]) => {
    const frame = { ...req, id };
    return fc.oneof(
      { weight: 1, arbitrary: fc.constant(JSON.stringify(frame)) },
      { weight: 3, arbitrary: arbMutation(frame).map((m) => JSON.stringify(m)) },
      { weight: 2, arbitrary: arbTextMutation(JSON.stringify(frame)) },
    );
  });

/** The answer to the one request in flight, skipping pushes (deliveries, synced). */
/** A valid ack without an id: the one frame the server does not answer. */
function isUnansweredAck(text: string): boolean {
  try {
    const frame = parseClientFrame(text);
    return frame.type === "ack" && frame.id === undefined;
  } catch {
    return false;
  }
}

async function answer(s: RawSocket): Promise<Frame> {
  for (;;) {
    const f = await s.next(5000);
    if (!PUSHES.has(String(f.type))) return f;
  }
}

function assertTyped(f: Frame, input: string): void {
  assert.ok(f.type === "result" || f.type === "error", `unexpected frame ${JSON.stringify(f)}`);
  if (f.type === "error") {
    assert.ok((ERROR_CODES as readonly string[]).includes(String(f.code)), `unknown code ${String(f.code)}`);
    assert.notEqual(f.code, "internal", `internal error for ${input}`);
    assert.equal(typeof f.message, "string");
  }
}

describe("fuzzing a running server (fast-check)", () => {
  let t: TestServer;
  let token: string;
  before(async () => {
    t = await startTestServer(["--auth-timeout", "120", "--registrations-per-minute", "5"]);
    const res = await rawAuth(t.url, "register", "fuzzer");
    token = ((await res.json()) as { token: string }).token;
    await rawAuth(t.url, "register", "bystander");
  });
  after(async () => {
    await t.stop();
  });

  it("before authentication, every frame gets a typed error and nothing is stored", async () => {
    const s = await rawSocket(t.url);
    const before = dumpDatabase(t.dataDir);
    try {
      await fc.assert(
        fc.asyncProperty(arbFrameText, async (text) => {
          s.send(text);
          const f = await answer(s);
          assertTyped(f, text);
          assert.equal(f.type, "error", `answered ${JSON.stringify(f)} before auth`);
        }),
        { numRuns: 300 },
      );
      assert.equal(dumpDatabase(t.dataDir), before, "stored data changed");
    } finally {
      s.close();
    }
  });

  it("after authentication, every frame gets one typed answer; refused ones change nothing", async () => {
    const s = await rawSocket(t.url);
    try {
      assert.equal((await s.auth(token)).type, "result");
      await fc.assert(
        fc.asyncProperty(arbFrameText, async (text) => {
          const before = dumpDatabase(t.dataDir);
          s.send(text);
          if (isUnansweredAck(text)) {
            // Not answered by design (feature level 3): the next answer is the ping's.
            const pong = await s.call({ type: "ping", id: "after-ack" });
            assert.deepEqual([pong.type, pong.re], ["result", "after-ack"], text);
            return;
          }
          const f = await answer(s);
          assertTyped(f, text);
          if (f.type === "error")
            assert.equal(dumpDatabase(t.dataDir), before, `stored data changed by ${text}`);
        }),
        { numRuns: 300 },
      );
      // Still the same healthy connection.
      assert.equal((await s.call({ type: "ping" })).type, "result");
    } finally {
      s.close();
    }
  });

  it("random HTTP requests get JSON answers with typed errors, never a 500, and the server stays up", async () => {
    const valid = {
      username: "someone",
      password: "a long password",
      device: { name: "d", signatureKey: "AAAA" },
    };
    const arbRequest = fc.record({
      method: fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"),
      path: fc.oneof(
        fc.constantFrom(
          "/api/v1/register",
          "/api/v1/login",
          "/api/v1/logout",
          "/api/v1/devices",
          "/api/v1/devices/AAAAAAAAAAAAAAAAAAAAAA",
          "/api/v1/ws",
          "/api",
          "/healthz",
        ),
        fc.string({ maxLength: 20 }).map((p) => `/api/v1/${encodeURIComponent(p)}`),
      ),
      body: fc.oneof(
        arbMutation(valid).map((b) => JSON.stringify(b)),
        arbJsonValue.map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 100 }),
      ),
      auth: fc.oneof(
        fc.constant(undefined),
        fc.constant(`Bearer ${token}`),
        fc.string({ maxLength: 60 }).map((x) => `Bearer ${x}`),
        fc.string({ maxLength: 20 }),
      ),
    });
    const before = dumpDatabase(t.dataDir);
    let changed = false;
    await fc.assert(
      fc.asyncProperty(arbRequest, async (r) => {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (r.auth !== undefined && /^[\x20-\x7e]*$/.test(r.auth)) headers.authorization = r.auth;
        const withBody = r.method !== "GET" && r.method !== "OPTIONS";
        // Never log this device out or revoke it: that would only end the run early.
        const destructive =
          r.auth === `Bearer ${token}` && (r.path.endsWith("/logout") || r.method === "DELETE");
        if (destructive) return;
        const res = await fetch(`${t.url}${r.path}`, {
          method: r.method,
          headers,
          ...(withBody ? { body: r.body } : {}),
        });
        const text = await res.text();
        assert.ok(res.status < 500, `${r.method} ${r.path} → ${res.status} ${text.slice(0, 200)}`);
        if (res.status >= 400) {
          const body = JSON.parse(text) as { error: { code: string; message: string } };
          assert.ok((ERROR_CODES as readonly string[]).includes(body.error.code), text);
        } else changed = true;
      }),
      { numRuns: 250 },
    );
    if (!changed) assert.equal(dumpDatabase(t.dataDir), before, "refused requests changed stored data");
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    const failures = t.logs.filter((l) => /"(request|http)\.failed"/.test(l));
    assert.deepEqual(failures, [], "no request ended in an internal error");
  });
});
