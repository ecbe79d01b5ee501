import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError } from "./errors.ts";
import { parseClientFrame } from "./frames.ts";
import { BlobCreateRequest, LinkClaimRequest } from "./http.ts";

const ID = "AAAAAAAAAAAAAAAAAAAAAA";
const send = (extra: object): string =>
  JSON.stringify({ type: "send", id: 1, groupId: ID, epoch: 1, messageId: ID, data: "AQID", ...extra });

describe("privacy additions to the wire format", () => {
  it("send takes an expiry time and attachment ids, and refuses malformed ones", () => {
    const f = parseClientFrame(send({ expiresAt: 1_800_000_000_000, blobs: [ID] }));
    assert.ok(f.type === "send" && f.expiresAt === 1_800_000_000_000 && f.blobs?.[0] === ID);
    for (const bad of [
      { expiresAt: -5 },
      { expiresAt: 1.5 },
      { blobs: ["../etc"] },
      { blobs: Array(101).fill(ID) },
    ])
      assert.throws(
        () => parseClientFrame(send(bad)),
        (e: unknown) => e instanceof ProtocolError && e.code === "bad-frame",
      );
  });

  it("blob and link requests are strict", () => {
    assert.equal(BlobCreateRequest.safeParse({ size: 10 }).success, true);
    assert.equal(BlobCreateRequest.safeParse({ size: -1 }).success, false);
    assert.equal(BlobCreateRequest.safeParse({ size: 10, name: "x" }).success, false);
    assert.equal(
      LinkClaimRequest.safeParse({ code: "AB", device: { name: "d", signatureKey: "AAAA" } }).success,
      false,
    );
    assert.equal(
      LinkClaimRequest.safeParse({ code: "ABCDE-FGHJK", device: { name: "d", signatureKey: "AAAA" } })
        .success,
      true,
    );
  });
});
