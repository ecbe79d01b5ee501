import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type ChatMessage, SdkError, type TransferProgress } from "@sori/sdk";
import { padmeLength } from "@sori/crypto";
import { deviceToken, newDevice, newUser, receive, suiteServer, twoUsers, waitFor } from "../helpers.ts";

/** A file with a recognisable plaintext pattern, to look for at rest. */
function sample(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const marker = new TextEncoder().encode("SORI-PLAINTEXT-MARKER;");
  for (let i = 0; i < size; i++) bytes[i] = marker[i % marker.length]!;
  return bytes;
}

describe("encrypted attachments", () => {
  const t = suiteServer(["--max-file-mb", "5"]);
  const blobDir = (): string => join(t.dataDir, "blobs");

  it("a file round-trips byte-identical, the server holds only ciphertext, and drops it once fetched", async () => {
    const [ann, ben] = await twoUsers(t.url, "ann", "ben");
    try {
      const chat = await ann.startDirectChat("ben");
      const data = sample(2_500_000); // three chunks
      const progress: TransferProgress[] = [];
      const sent = await ann.sendFile(
        chat.id,
        { name: "../notes.txt", mime: "text/plain", bytes: data, thumbnail: new Uint8Array([9, 9]) },
        { caption: "the notes", onProgress: (p) => progress.push(p) },
      );
      assert.equal(sent.status, "sent");
      assert.equal(sent.file?.name, ".._notes.txt", "no path separators in names");
      assert.equal(progress.at(-1)?.done, progress.at(-1)?.total);
      assert.ok(progress.length >= 4, `progress was reported per chunk: ${progress.length}`);

      // At rest on the server: one blob, the size of the ciphertext, without the plaintext.
      const files = readdirSync(blobDir());
      assert.equal(files.length, 1);
      const stored = readFileSync(join(blobDir(), files[0]!));
      // IV and tag around the file padded with Padmé (the server learns its size only roughly).
      assert.equal(stored.length, padmeLength(data.length + 1) + 28);
      assert.equal(stored.indexOf(Buffer.from("SORI-PLAINTEXT-MARKER")), -1);

      const [got] = await receive(ben, 1);
      assert.equal(got?.kind, "file");
      assert.equal(got?.text, "the notes");
      assert.deepEqual(got?.file, {
        name: ".._notes.txt",
        mime: "text/plain",
        size: data.length,
        thumbnail: Buffer.from([9, 9]).toString("base64"),
      });
      const down: TransferProgress[] = [];
      const bytes = await ben.downloadFile(chat.id, got!.id, { onProgress: (p) => down.push(p) });
      assert.ok(Buffer.from(bytes).equals(Buffer.from(data)), "byte-identical");
      assert.equal(down.at(-1)?.done, stored.length);
      // Every recipient device fetched it: the server deletes it.
      await waitFor(
        async () => readdirSync(blobDir()).length,
        (n) => n === 0,
      );
      // This device kept its copy; so did the sender.
      assert.ok(Buffer.from(await ben.downloadFile(chat.id, got!.id)).equals(Buffer.from(data)));
      assert.ok(Buffer.from(await ann.downloadFile(chat.id, sent.id)).equals(Buffer.from(data)));
      // Deleted for everyone: gone from the receiver's storage too.
      await ann.deleteForEveryone(chat.id, sent.id);
      await waitFor(
        async () => (await ben.history(chat.id)).find((m) => m.id === sent.id),
        (m) => m?.deleted === true,
      );
      await assert.rejects(
        ben.downloadFile(chat.id, sent.id),
        (e: unknown) => e instanceof SdkError && e.code === "not-found",
      );
    } finally {
      await Promise.all([ann.close(), ben.close()]);
    }
  });

  it("refuses files over the limit, tampered blobs, and bad uploads, keeping what is stored", async () => {
    const [cy, di] = await twoUsers(t.url, "cyd", "dim");
    try {
      const chat = await cy.startDirectChat("dim");
      await assert.rejects(
        cy.sendFile(chat.id, { name: "big.bin", bytes: new Uint8Array(5_000_001) }),
        (e: unknown) => e instanceof SdkError && e.code === "too-large",
      );
      const failed = (await cy.history(chat.id)).at(-1) as ChatMessage;
      assert.equal(failed.status, "failed");

      const sent = await cy.sendFile(chat.id, { name: "x.bin", bytes: sample(1000) });
      const [got] = await receive(di, 1);
      const [file] = readdirSync(blobDir()).filter((f) => f !== "");
      const path = join(blobDir(), file!);
      const ct = readFileSync(path);
      ct[40] = ct[40]! ^ 1;
      writeFileSync(path, ct);

      // Protocol edges: no token, a wrong offset, a Range read.
      const token = await deviceToken(di);
      const auth = { authorization: `Bearer ${token}` };
      assert.equal((await fetch(`${t.url}/api/v1/blobs/${file}`)).status, 401);
      const range = await fetch(`${t.url}/api/v1/blobs/${file}`, {
        headers: { ...auth, range: "bytes=10-19" },
      });
      assert.equal(range.status, 206);
      assert.equal(range.headers.get("content-range"), `bytes 10-19/${ct.length}`);
      assert.ok(Buffer.from(await range.arrayBuffer()).equals(ct.subarray(10, 20)));
      // A tampered blob fails its hash check (downloading it to the end also ends its stay on the server).
      await assert.rejects(
        di.downloadFile(chat.id, got!.id),
        (e: unknown) => e instanceof SdkError && e.code === "crypto",
      );
      assert.equal(sent.file?.size, 1000);
      const created = await fetch(`${t.url}/api/v1/blobs`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ size: 10 }),
      });
      const { blobId } = (await created.json()) as { blobId: string };
      const wrong = await fetch(`${t.url}/api/v1/blobs/${blobId}?offset=5`, {
        method: "PUT",
        headers: auth,
        body: new Uint8Array(5),
      });
      assert.equal(wrong.status, 400);
      assert.equal(
        ((await wrong.json()) as { error: { details: { received: number } } }).error.details.received,
        0,
      );
      const tooMuch = await fetch(`${t.url}/api/v1/blobs/${blobId}?offset=0`, {
        method: "PUT",
        headers: auth,
        body: new Uint8Array(11),
      });
      assert.equal(tooMuch.status, 413);
      const status = await fetch(`${t.url}/api/v1/blobs/${blobId}/status`, { headers: auth });
      assert.deepEqual(await status.json(), { size: 10, received: 0 });
      const incomplete = await fetch(`${t.url}/api/v1/blobs/${blobId}`, { headers: auth });
      assert.equal(incomplete.status, 404);
      const bad = await fetch(`${t.url}/api/v1/blobs`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ size: -1 }),
      });
      assert.equal(bad.status, 400);
    } finally {
      await Promise.all([cy.close(), di.close()]);
    }
  });

  it("a recipient forwards a file it received (the same blob): the next person can download it", async () => {
    const [gus, hal] = await twoUsers(t.url, "gus", "hal");
    const ivy = await newUser(t.url, "ivy");
    // Gus's second device has not fetched the file yet: the server still has it after Hal did.
    const gus2 = await newDevice(t.url, gus);
    try {
      const data = sample(3000);
      const chat = await gus.startDirectChat("hal");
      await gus.sendFile(chat.id, { name: "map.bin", bytes: data });
      const [got] = await receive(hal, 1);
      // Opened first, then forwarded: Hal no longer waits for it, but it was sent to Hal.
      assert.ok(Buffer.from(await hal.downloadFile(chat.id, got!.id)).equals(Buffer.from(data)));
      const other = await hal.startDirectChat("ivy");
      const fwd = await hal.forward(chat.id, got!.id, other.id);
      assert.equal(fwd.forwarded, true);
      const [atIvy] = await receive(ivy, 1);
      assert.equal(atIvy?.kind, "file");
      assert.ok(Buffer.from(await ivy.downloadFile(other.id, atIvy!.id)).equals(Buffer.from(data)));
    } finally {
      await Promise.all([gus.close(), gus2.close(), hal.close(), ivy.close()]);
    }
  });

  it("forwarding a file the server has already let go uploads this device's copy again, as one message", async () => {
    const [kim, lee] = await twoUsers(t.url, "kim", "lee");
    const mo = await newUser(t.url, "moe");
    try {
      const data = sample(4000);
      const chat = await kim.startDirectChat("lee");
      const before = new Set(readdirSync(blobDir()));
      await kim.sendFile(chat.id, { name: "plan.bin", bytes: data });
      const blob = readdirSync(blobDir()).filter((f) => !before.has(f));
      assert.equal(blob.length, 1);
      const [got] = await receive(lee, 1);
      assert.ok(Buffer.from(await lee.downloadFile(chat.id, got!.id)).equals(Buffer.from(data)));
      // Every recipient fetched it: the blob is gone from the server, only the devices' copies remain.
      await waitFor(
        async () => readdirSync(blobDir()).includes(blob[0]!),
        (present) => !present,
      );
      const other = await lee.startDirectChat("moe");
      const fwd = await lee.forward(chat.id, got!.id, other.id);
      assert.equal(fwd.status, "sent");
      const mine = (await lee.history(other.id)).filter((m) => m.kind === "file");
      assert.deepEqual(
        mine.map((m) => m.status),
        ["sent"],
        "no failed first attempt left behind",
      );
      const [atMo] = await receive(mo, 1);
      assert.equal(atMo?.id, fwd.id);
      assert.ok(Buffer.from(await mo.downloadFile(other.id, atMo!.id)).equals(Buffer.from(data)));
    } finally {
      await Promise.all([kim.close(), lee.close(), mo.close()]);
    }
  });

  it("an upload and a download cut off midway resume where they stopped", async () => {
    const [eve, fin] = await twoUsers(t.url, "eve", "fin");
    const realFetch = globalThis.fetch;
    try {
      const chat = await eve.startDirectChat("fin");
      const data = sample(2_200_000);
      const puts: string[] = [];
      let cut = false;
      globalThis.fetch = async (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        if (init?.method === "PUT") {
          puts.push(new URL(url).searchParams.get("offset") ?? "");
          // The second chunk is lost on the way: the server never sees it.
          if (puts.length === 2) throw new TypeError("network down");
        }
        const res = await realFetch(input, init);
        if (/\/blobs\/[\w-]{22}$/.test(url) && (init?.method ?? "GET") === "GET" && !cut && res.body) {
          cut = true;
          // Hand over the first 100,000 bytes, then fail as a dropped connection does.
          const reader = res.body.getReader();
          let sent = 0;
          const body = new ReadableStream<Uint8Array>({
            async pull(controller) {
              const { done, value } = await reader.read();
              if (done || sent >= 100_000) {
                await reader.cancel();
                controller.error(new TypeError("connection reset"));
                return;
              }
              const part = value.subarray(0, 100_000 - sent);
              sent += part.length;
              controller.enqueue(part);
            },
          });
          return new Response(body, { status: res.status, headers: res.headers });
        }
        return res;
      };
      await eve.sendFile(chat.id, { name: "big.bin", bytes: data });
      assert.deepEqual(
        puts.slice(0, 3),
        ["0", "1048576", "1048576"],
        "the lost chunk is sent again from its offset",
      );
      const [got] = await receive(fin, 1);
      const bytes = await fin.downloadFile(chat.id, got!.id);
      assert.ok(cut, "the first download was cut off");
      assert.ok(Buffer.from(bytes).equals(Buffer.from(data)), "byte-identical after resuming");
    } finally {
      globalThis.fetch = realFetch;
      await Promise.all([eve.close(), fin.close()]);
    }
  });
});
