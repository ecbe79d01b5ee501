import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { fromBase64, toBase64 } from "./base64.ts";
import { ERROR_CODES, ProtocolError } from "./errors.ts";
import { arbClientRequest, arbJsonValue, arbMutation, arbTextMutation } from "./frame-arbitraries.ts";
import { parseClientFrame, parseResult, parseServerFrame, peekRequestId, RESULT_SCHEMAS } from "./frames.ts";
import { AuthRequest } from "./http.ts";

const RUNS = { numRuns: 400 };

/** Runs `parse`; it must either succeed or throw a ProtocolError with a known code, nothing else. */
function parsesOrTypedError(parse: () => unknown): "ok" | string {
  try {
    parse();
    return "ok";
  } catch (error) {
    assert.ok(error instanceof ProtocolError, `threw ${String(error)}`);
    assert.ok((ERROR_CODES as readonly string[]).includes(error.code));
    assert.ok(error.message.length > 0);
    return error.code;
  }
}

describe("fuzzing the frame parsers (fast-check)", () => {
  it("every valid request parses, with binary fields decoded", () => {
    fc.assert(
      fc.property(arbClientRequest, fc.nat(), (req, id) => {
        const frame = parseClientFrame(JSON.stringify({ ...req, id }));
        assert.equal(frame.type, req.type);
        assert.equal(frame.id, id);
        if (frame.type === "send") assert.equal(toBase64(frame.data), req.data);
      }),
      RUNS,
    );
  });

  it("arbitrary text and JSON never crash the client-frame parser: result or bad-frame", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 })),
        (text) => {
          const outcome = parsesOrTypedError(() => parseClientFrame(text));
          assert.ok(outcome === "ok" || outcome === "bad-frame");
        },
      ),
      RUNS,
    );
    fc.assert(
      fc.property(arbJsonValue, (value) => {
        assert.equal(
          parsesOrTypedError(() => parseClientFrame(JSON.stringify(value))),
          "bad-frame",
        );
      }),
      RUNS,
    );
  });

  it("mutated valid frames either still parse to a valid frame or fail with bad-frame", () => {
    const arb = fc
      .tuple(arbClientRequest, fc.nat())
      .chain(([req, id]) => arbMutation({ ...req, id }).map((m) => JSON.stringify(m)))
      .chain((text) => fc.oneof(fc.constant(text), arbTextMutation(text)));
    fc.assert(
      fc.property(arb, (text) => {
        const outcome = parsesOrTypedError(() => parseClientFrame(text));
        assert.ok(outcome === "ok" || outcome === "bad-frame", outcome);
      }),
      { numRuns: 1500 },
    );
  });

  it("peekRequestId never throws and returns only a short string or a whole number", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          arbJsonValue.map((v) => JSON.stringify(v)),
        ),
        (text) => {
          const id = peekRequestId(text);
          assert.ok(
            id === undefined ||
              (typeof id === "string" && id.length <= 64) ||
              (typeof id === "number" && Number.isInteger(id)),
          );
        },
      ),
      RUNS,
    );
  });

  it("the SDK's parsers of server frames and results fail only with bad-frame", () => {
    const types = Object.keys(RESULT_SCHEMAS) as (keyof typeof RESULT_SCHEMAS)[];
    fc.assert(
      fc.property(arbJsonValue, fc.constantFrom(...types), (value, type) => {
        const a = parsesOrTypedError(() => parseServerFrame(JSON.stringify(value)));
        assert.ok(a === "ok" || a === "bad-frame");
        const b = parsesOrTypedError(() => parseResult(type, value));
        assert.ok(b === "ok" || b === "bad-frame");
      }),
      RUNS,
    );
  });

  it("the HTTP register/login body schema never throws, only reports issues", () => {
    const valid = {
      username: "alice",
      password: "long enough password",
      device: { name: "d", signatureKey: "AAAA" },
    };
    fc.assert(
      fc.property(
        fc.oneof(arbJsonValue, arbMutation(valid), arbMutation({ ...valid, device: { name: 1 } })),
        (body) => {
          const r = AuthRequest.safeParse(body);
          if (r.success) assert.equal(typeof r.data.username, "string");
        },
      ),
      RUNS,
    );
  });

  it("base64 decoding accepts exactly canonical text and round-trips", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const bytes = fromBase64(text);
        if (bytes !== undefined) assert.equal(toBase64(bytes), text);
      }),
      RUNS,
    );
  });
});
