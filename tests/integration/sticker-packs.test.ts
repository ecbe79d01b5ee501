import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SdkError } from "@sori/sdk";
import { receive, suiteServer, twoUsers, waitFor } from "../helpers.ts";

const png = (n: number): Uint8Array => new Uint8Array([0x89, 0x50, 0x4e, 0x47, n, n, n]);

describe("sticker packs", () => {
  const t = suiteServer();

  it("a pack made from images is shared in a chat, added by another user, and its stickers show for everyone", async () => {
    const [mia, noa] = await twoUsers(t.url, "mia", "noa");
    try {
      const chat = await mia.startDirectChat("noa");
      await assert.rejects(
        mia.createStickerPack("bad", [{ bytes: png(1), mime: "text/plain" }]),
        (e: unknown) => e instanceof SdkError && e.code === "bad-request",
      );
      const pack = await mia.createStickerPack("cats", [
        { bytes: png(1), mime: "image/png" },
        { bytes: png(2), mime: "image/png" },
      ]);
      assert.deepEqual(
        (await mia.stickerPacks()).map((p) => p.name),
        ["cats"],
      );
      const shared = await mia.shareStickerPack(chat.id, pack.id);
      assert.equal(shared.kind, "sticker-pack");
      const offer = await waitFor(
        async () => (await noa.history(chat.id)).find((m) => m.kind === "sticker-pack"),
        (m) => m !== undefined,
      );
      assert.deepEqual(offer?.stickerPack, { id: pack.id, name: "cats", count: 2 });
      const added = await noa.addStickerPack(chat.id, offer!.id);
      assert.equal(added.own, false);
      assert.deepEqual(await noa.stickerImage(pack.id, "s2"), png(2));

      // A sticker from the pack carries its image: it shows even where the pack was not added.
      await noa.sendSticker(chat.id, { pack: pack.id, id: "s1" });
      const [got] = await receive(mia, 1);
      assert.deepEqual(got?.sticker, { pack: pack.id, id: "s1" });
      assert.deepEqual(await mia.downloadFile(chat.id, got!.id), png(1));
      await assert.rejects(
        noa.sendSticker(chat.id, { pack: "no-such-pack", id: "s1" }),
        (e: unknown) => e instanceof SdkError && e.code === "not-found",
      );
      await noa.removeStickerPack(pack.id);
      assert.deepEqual(await noa.stickerPacks(), []);
    } finally {
      await Promise.all([mia.close(), noa.close()]);
    }
  });
});
