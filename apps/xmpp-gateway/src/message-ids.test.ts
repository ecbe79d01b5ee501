import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createLogger } from "@sori/server";
import { MAX_MESSAGES, MessageIds } from "./message-ids.ts";

const log = createLogger("error", () => undefined);

describe("the XMPP id ↔ Sori id map of an identity", () => {
  const dir = mkdtempSync(join(tmpdir(), "sori-message-ids-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("finds a message by any of its XMPP ids after a restart, and skips a torn last line", async () => {
    const ids = await MessageIds.open(dir, log);
    ids.remember({ sori: "s-1", chat: "c", xmpp: ["j-1", "o-1"], by: "xmpp", markable: true });
    ids.update("s-1", { xmpp: ["j-1-fix"], xmppReactions: ["👍"] });
    ids.remember({ sori: "s-2", chat: "c", xmpp: ["s-2"], by: "sori" });
    await ids.close();
    appendFileSync(join(dir, "xmpp-message-ids.jsonl"), '{"sori":"s-3","chat"');
    const again = await MessageIds.open(dir, log);
    assert.deepEqual(again.byXmpp("j-1-fix"), {
      sori: "s-1",
      chat: "c",
      xmpp: ["j-1", "o-1", "j-1-fix"],
      by: "xmpp",
      markable: true,
      xmppReactions: ["👍"],
    });
    assert.equal(again.byXmpp("o-1")?.sori, "s-1");
    assert.equal(again.bySori("s-2")?.by, "sori");
    assert.equal(again.bySori("s-3"), undefined);
    await again.close();
    // Reopening rewrote the file without the repeated and torn lines.
    assert.equal(readFileSync(join(dir, "xmpp-message-ids.jsonl"), "utf8").trim().split("\n").length, 2);
  });

  it("keeps the newest messages only, and the file bounded", async () => {
    const ids = await MessageIds.open(dir, log);
    for (let i = 0; i < 2 * MAX_MESSAGES + 10; i++)
      ids.remember({ sori: `n-${i}`, chat: "c", xmpp: [`x-${i}`], by: "sori" });
    await ids.close();
    const again = await MessageIds.open(dir, log);
    assert.equal(again.byXmpp("x-0"), undefined);
    assert.equal(again.byXmpp(`x-${2 * MAX_MESSAGES + 9}`)?.sori, `n-${2 * MAX_MESSAGES + 9}`);
    await again.close();
    const lines = readFileSync(join(dir, "xmpp-message-ids.jsonl"), "utf8").trim().split("\n").length;
    assert.ok(lines <= 2 * MAX_MESSAGES, `${lines} lines`);
  });
});
