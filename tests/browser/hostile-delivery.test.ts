// A server that drops or reorders messages, played by a route on the browser's WebSocket: the chat
// says so in lines of its own ("1 message from bob did not arrive", "arrived out of order"), from the
// numbers every sender puts inside the encryption, instead of passing over it in silence. And a
// sender whose reply quotes something the original never said: the quote shows Alice's own copy,
// marked. Bob is an SDK client in Node, so that nothing but his texts reaches Alice's browser.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type ChatMessage, getJson, MemoryStorage, putJson, SoriClient } from "@sori/sdk";
import type { WebSocketRoute } from "playwright-core";
import { assertNoErrors, screenshot } from "./harness.ts";
import { byTestId, PASSWORD, signUp } from "./people.ts";
import { useWebSuite } from "./web-suite.ts";

type Mode = "pass" | "drop" | "hold";

describe("a server that drops or reorders messages, and a lying sender, in Chromium", () => {
  const suite = useWebSuite();
  let bob: SoriClient | undefined;
  let bobsStorage: MemoryStorage | undefined;
  after(async () => {
    await bob?.close();
  });

  it(
    "the chat says a message did not arrive, and that messages came out of order",
    { timeout: 60_000 },
    async () => {
      const alice = await suite.open({ locale: "en-US" });
      const page = alice.page;
      // Between the app and the server: passes every frame, except the next message in "drop" (gone,
      // and acknowledged by the ones after it) or "hold" (kept until released).
      let mode: Mode = "pass";
      let held: { frame: string; to: WebSocketRoute } | undefined;
      let touched: (() => void) | undefined;
      await page.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
        const server = ws.connectToServer();
        server.onMessage((frame) => {
          const text = typeof frame === "string" ? frame : frame.toString("utf8");
          const parsed = JSON.parse(text) as { type?: string; kind?: string };
          if (mode !== "pass" && parsed.type === "deliver" && parsed.kind === "message") {
            if (mode === "hold") held = { frame: text, to: ws };
            mode = "pass";
            touched?.();
            return;
          }
          ws.send(text);
        });
      });
      const next = (m: Mode): Promise<void> =>
        new Promise((resolve) => {
          mode = m;
          touched = resolve;
        });

      await signUp(page, "alice", { waitForChatList: true });
      const storage = new MemoryStorage();
      bobsStorage = storage;
      await SoriClient.register({ serverUrl: suite.url, username: "bob", password: PASSWORD, storage });
      bob = await SoriClient.open(storage);
      await bob.connect();
      const chat = await bob.startDirectChat("alice");
      await bob.sendText(chat.id, "one");
      await page.locator('[data-testid="chat-item"][data-chat-name="bob"]').click({ timeout: 20_000 });
      const list = byTestId(page, "message-list");
      await list.getByText("one", { exact: true }).waitFor();
      // Let what joining the chat sends by itself (profiles, receipts) pass first.
      await new Promise((r) => setTimeout(r, 1500));

      // The server drops "two": "three" arrives, numbered one too far, and the chat says so.
      const dropped = next("drop");
      await bob.sendText(chat.id, "two");
      await dropped;
      await bob.sendText(chat.id, "three");
      await list.getByText("three", { exact: true }).waitFor();
      const missing = page.locator('[data-testid="system-line"][data-event="messages-missing"]');
      await missing.waitFor();
      assert.equal(
        (await missing.innerText()).trim(),
        "1 message from bob did not arrive: it expired, or the server dropped it.",
      );
      assert.equal(await missing.getAttribute("role"), "alert", "shown as a warning");
      assert.equal(await list.getByText("two", { exact: true }).count(), 0);

      // The server holds "four" back and delivers "five" first: when "four" comes, the chat says so.
      const heldBack = next("hold");
      await bob.sendText(chat.id, "four");
      await heldBack;
      await bob.sendText(chat.id, "five");
      await list.getByText("five", { exact: true }).waitFor();
      assert.ok(held, "four was held back");
      held.to.send(held.frame);
      await list.getByText("four", { exact: true }).waitFor();
      const reordered = page.locator('[data-testid="system-line"][data-event="reordered"]');
      await reordered.waitFor();
      assert.match(await reordered.innerText(), /^Messages from bob arrived out of order/);
      await screenshot(page, "desktop-en-hostile-delivery-lines");
      // The chat shows the held message where it was sent: before "five".
      const texts = await list.getByTestId("message-text").allInnerTexts();
      assert.deepEqual(texts, ["one", "three", "four", "five"]);
      assertNoErrors(alice);
    },
  );

  it(
    "a reply quoting what the original never said shows Alice's copy, marked",
    { timeout: 60_000 },
    async () => {
      const page = suite.devices[0]!.page;
      const storage = bobsStorage!;
      const chat = (await bob!.findChat("alice"))!;
      const got = new Promise<ChatMessage>((resolve) => {
        bob!.on("message", (m) => {
          if (m.text === "the real text") resolve(m);
        });
      });
      const composer = byTestId(page, "composer");
      await composer.fill("the real text");
      await composer.press("Enter");
      const original = await got;
      // Bob's client lies: its copy of the message (SDK storage layout: msgidx/ → hist/) says otherwise.
      const index = await getJson<{ order: number }>(storage, `msgidx/${chat.id}/${original.id}`);
      assert.ok(index, "the message is indexed");
      const key = (await storage.list(`hist/${chat.id}/`)).find(
        (k) => Number(k.split("/").pop()) === index.order,
      );
      assert.ok(key, "the history entry is found");
      const stored = (await getJson<ChatMessage>(storage, key))!;
      await putJson(storage, key, { ...stored, text: "a forged text" });
      await bob!.sendText(chat.id, "about that", { replyTo: original.id });

      const reply = page.locator('[data-testid="message"]').filter({ hasText: "about that" });
      await reply.waitFor({ timeout: 20_000 });
      const quote = reply.getByTestId("reply-quote");
      assert.match(await quote.innerText(), /the real text/);
      assert.doesNotMatch(await quote.innerText(), /forged/);
      await quote.getByTestId("reply-mismatch").waitFor();
      assert.match(
        await quote.getByTestId("reply-mismatch").innerText(),
        /quote does not match the original/,
      );
      await screenshot(page, "desktop-en-reply-mismatch");
      // An honest reply has no mark.
      await bob!.sendText(chat.id, "and honestly", { replyTo: (await bob!.history(chat.id)).at(-1)!.id });
      const honest = page.locator('[data-testid="message"]').filter({ hasText: "and honestly" });
      await honest.getByTestId("reply-quote").waitFor({ timeout: 20_000 });
      assert.equal(await honest.getByTestId("reply-mismatch").count(), 0);
      assertNoErrors(suite.devices[0]!);
    },
  );
});
