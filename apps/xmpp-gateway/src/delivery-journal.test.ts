import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createLogger } from "@sori/server";
import { DeliveryJournal, JournalError, type TakenStanza } from "./delivery-journal.ts";

const log = createLogger("error", () => undefined);
const stanza = (n: number, from = "juliet@xmpp.test"): TakenStanza => ({
  messageId: `msg-${String(n).padStart(16, "0")}`,
  from,
  fromFull: `${from}/phone`,
  to: "alice@sori.test",
  stanzaId: `s-${n}`,
  body: `body ${n}`,
  wantsReceipt: n % 2 === 0,
});

describe("the delivery journal", () => {
  const root = mkdtempSync(join(tmpdir(), "sori-journal-"));
  let dirs = 0;
  const fresh = (): string => join(root, String(dirs++));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("keeps a taken chat's reply, origin id and markable across a reopen (its redo is a reply too)", () => {
    const dir = fresh();
    const j = DeliveryJournal.open(dir, { log, trustWrites: true });
    const reply: TakenStanza = {
      ...stanza(7),
      markable: true,
      originId: "origin-7",
      reply: { of: "s-3", text: "yes" },
    };
    assert.ok(j.take(reply));
    const k = DeliveryJournal.open(dir, { log, trustWrites: true });
    assert.deepEqual(k.taken(), [reply]);
    k.close();
    j.close();
  });

  it("keeps what was taken, seen and passed on across a reopen (as after SIGKILL: no close)", () => {
    const dir = fresh();
    const j = DeliveryJournal.open(dir, { log, trustWrites: true });
    for (let i = 0; i < 3; i++) assert.ok(j.take(stanza(i)));
    j.handed(stanza(0).messageId, { from: "juliet@xmpp.test", to: "alice@sori.test", of: "s-0", chat: "c" });
    j.written("xmpp:juliet@xmpp.test", "out-1");
    j.written("xmpp:juliet@xmpp.test", "out-2");
    j.acked("xmpp:juliet@xmpp.test", ["out-1"]);
    j.written("xmpp:romeo@xmpp.test", "out-3");
    j.revoked("xmpp:romeo@xmpp.test", ["out-3"]);
    // Not closed: what the process wrote before dying is all there is.
    const k = DeliveryJournal.open(dir, { log, trustWrites: true });
    assert.deepEqual(
      k.taken().map((t) => t.stanzaId),
      ["s-1", "s-2"],
    );
    assert.ok(k.isDuplicate("juliet@xmpp.test", "s-0"));
    assert.ok(k.isDuplicate("juliet@xmpp.test", "s-2"));
    assert.ok(!k.isDuplicate("romeo@xmpp.test", "s-0"));
    assert.equal(k.receiptFor(stanza(0).messageId)?.of, "s-0");
    assert.ok(k.wasPassedOn("xmpp:juliet@xmpp.test", "out-1"));
    assert.ok(k.wasPassedOn("xmpp:juliet@xmpp.test", "out-2"), "written on loopback counts as passed on");
    assert.ok(!k.wasPassedOn("xmpp:romeo@xmpp.test", "out-3"), "revoked goes out again");
    k.close();
    j.close();
  });

  it("sends again what was only written when the server is not on loopback", () => {
    const dir = fresh();
    const j = DeliveryJournal.open(dir, { log, trustWrites: false });
    j.written("u", "a");
    j.written("u", "b");
    j.acked("u", ["a"]);
    const k = DeliveryJournal.open(dir, { log, trustWrites: false });
    assert.ok(k.wasPassedOn("u", "a"));
    assert.ok(!k.wasPassedOn("u", "b"));
    k.keepOnly("u", new Set());
    assert.ok(!k.wasPassedOn("u", "a"), "forgotten once no longer in the feed");
    j.close();
    k.close();
  });

  it("skips records a snapshot holds (a crash between the snapshot and cutting the log) and a torn last line", () => {
    const dir = fresh();
    const j = DeliveryJournal.open(dir, { log, trustWrites: true });
    j.take(stanza(1));
    const logText = readFileSync(join(dir, "journal.log"), "utf8");
    j.handed(stanza(1).messageId);
    j.close();
    // Reopening folds the log into the snapshot; put the old records back as if the cut never happened.
    DeliveryJournal.open(dir, { log, trustWrites: true }).close();
    writeFileSync(join(dir, "journal.log"), `${logText}{"s":99,"t":"ta`);
    const k = DeliveryJournal.open(dir, { log, trustWrites: true });
    assert.deepEqual(k.taken(), [], "the stale take is not applied again");
    assert.ok(k.isDuplicate("juliet@xmpp.test", "s-1"));
    k.close();
    appendFileSync(join(dir, "journal.log"), 'nonsense\n{"s":1000,"t":"receipt-sent","m":"x"}\n');
    assert.throws(
      () => DeliveryJournal.open(dir, { log, trustWrites: true }),
      (e: unknown) => e instanceof JournalError && e.code === "corrupt",
    );
  });

  it("stays bounded: stanza ids per address, addresses, and what it holds at once", () => {
    const dir = fresh();
    const j = DeliveryJournal.open(dir, { log, trustWrites: true });
    for (let i = 0; i < 600; i++) {
      assert.ok(j.take({ ...stanza(i), body: "" }));
      j.handed(stanza(i).messageId);
    }
    assert.ok(!j.isDuplicate("juliet@xmpp.test", "s-50"), "only the last 500 ids of an address");
    assert.ok(j.isDuplicate("juliet@xmpp.test", "s-599"));
    for (let i = 0; i < 2_100; i++) {
      j.take({ ...stanza(i, `u${i}@xmpp.test`), body: "" });
      j.handed(stanza(i).messageId);
    }
    assert.ok(!j.isDuplicate("juliet@xmpp.test", "s-599"), "the least recently active address is forgotten");
    assert.ok(j.isDuplicate("u2099@xmpp.test", "s-2099"));
    let taken = 0;
    while (j.take(stanza(100_000 + taken, "flood@xmpp.test"))) taken++;
    assert.equal(taken, 5_000);
    j.close();
    const size = statSync(join(dir, "journal.log")).size + statSync(join(dir, "journal.json")).size;
    assert.ok(size < 4_000_000, `${size} bytes`);
  });
});
