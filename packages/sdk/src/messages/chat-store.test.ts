import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryStorage } from "../storage/memory-storage.ts";
import { StorageKeys } from "../storage/storage-keys.ts";
import { type ChatMessage, type ChatRecord, ChatStore, type NewMessage } from "./chat-store.ts";

/** Storage that "crashes" (throws, and takes no more writes) after `writesLeft` writes. */
class CrashingStorage extends MemoryStorage {
  writesLeft = Number.POSITIVE_INFINITY;

  override put(key: string, value: Uint8Array): Promise<void> {
    if (this.writesLeft-- <= 0) return Promise.reject(new Error("crashed"));
    return super.put(key, value);
  }

  override delete(key: string): Promise<void> {
    if (this.writesLeft-- <= 0) return Promise.reject(new Error("crashed"));
    return super.delete(key);
  }
}

const CHAT: ChatRecord = {
  id: "chat-1",
  kind: "direct",
  name: null,
  createdAt: 1_800_000_000_000,
  lastMessageAt: null,
  lastMessage: null,
  unread: 0,
  active: true,
};

const incoming = (id: string): NewMessage => ({
  id,
  chat: "chat-1",
  from: "alice",
  fromUserId: "user-alice",
  kind: "text",
  text: `text of ${id}`,
  sentAt: 1_800_000_000_000,
  outgoing: false,
  status: "delivered",
});

describe("the chat store's append, crashed at every write and redone as a redelivery does", () => {
  it("ends with the message stored once and in the receive feed once, wherever the crash came", async () => {
    // How many writes one append makes, to crash before each of them.
    const probe = new CrashingStorage();
    const probeStore = new ChatStore(probe);
    await probeStore.putChat(CHAT);
    probe.writesLeft = 1_000;
    await probeStore.append(incoming("m0"), { feed: true, unread: true });
    const writes = 1_000 - probe.writesLeft;
    assert.ok(writes >= 5, `${writes} writes`);

    for (let crashAfter = 0; crashAfter < writes; crashAfter++) {
      const storage = new CrashingStorage();
      const store = new ChatStore(storage);
      await store.putChat(CHAT);
      await store.append(incoming("earlier"), { feed: true, unread: true });
      storage.writesLeft = crashAfter;
      await assert.rejects(store.append(incoming("m1"), { feed: true, unread: true }), /crashed/);
      storage.writesLeft = Number.POSITIVE_INFINITY;
      // The process is gone; a new one gets the same delivery again (it was not acknowledged).
      const again = new ChatStore(storage);
      await again.append(incoming("m1"), { feed: true, unread: true });
      await again.append(incoming("m1"), { feed: true, unread: true });
      const feed: ChatMessage[] = await again.peekFeed();
      assert.deepEqual(
        feed.map((m) => m.id),
        ["earlier", "m1"],
        `crash after ${crashAfter} writes: the feed`,
      );
      const history = await again.history("chat-1");
      assert.deepEqual(
        history.map((m) => m.id),
        ["earlier", "m1"],
        `crash after ${crashAfter} writes: the history`,
      );
      assert.equal((await again.getMessage("chat-1", "m1"))?.text, "text of m1");
      assert.deepEqual(
        await storage.list(StorageKeys.history("chat-1")),
        history.map((m) => StorageKeys.historyEntry("chat-1", m.order)),
        "no orphan history entry",
      );
    }
  });
});
