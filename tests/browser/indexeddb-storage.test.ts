// IndexedDbStorage in real Chromium (the unit test uses fake-indexeddb): the non-extractable CryptoKey
// must survive being stored in IndexedDB and a reload of the page. The module is served as plain
// JavaScript (types stripped by TypeScript), so this does not depend on the web app's build.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { startTestServer, type TestServer } from "../helpers.ts";
import { assertNoErrors, openDevice, type TestDevice } from "./harness.ts";

const SDK_SRC = fileURLToPath(new URL("../../packages/sdk/src/", import.meta.url));

const INDEX = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sori storage test</title><link rel="icon" href="data:,">
<script type="module" src="/assets/page.js"></script></head><body></body></html>`;

// Exposes the class to page.evaluate (which runs outside the module).
const PAGE_JS = `import { IndexedDbStorage } from "./storage/indexeddb-storage.browser.js";
import { SdkError } from "./errors.js";
window.soriTest = { IndexedDbStorage, SdkError };
document.body.dataset.ready = "yes";
`;

function toJs(file: string): string {
  return ts.transpileModule(readFileSync(join(SDK_SRC, file), "utf8"), {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
      rewriteRelativeImportExtensions: true,
    },
  }).outputText;
}

type Api = {
  IndexedDbStorage: {
    open(name: string): Promise<{
      get(k: string): Promise<Uint8Array | undefined>;
      put(k: string, v: Uint8Array): Promise<void>;
      list(p: string): Promise<string[]>;
      close(): void;
    }>;
    delete(name: string): Promise<void>;
  };
};

describe("IndexedDbStorage in Chromium", () => {
  let webDir: string;
  let server: TestServer;
  let device: TestDevice;

  before(async () => {
    webDir = mkdtempSync(join(tmpdir(), "sori-idb-web-"));
    mkdirSync(join(webDir, "assets", "storage"), { recursive: true });
    writeFileSync(join(webDir, "index.html"), INDEX);
    writeFileSync(join(webDir, "assets", "page.js"), PAGE_JS);
    writeFileSync(join(webDir, "assets", "errors.js"), toJs("errors.ts"));
    writeFileSync(
      join(webDir, "assets", "storage", "indexeddb-storage.browser.js"),
      toJs("storage/indexeddb-storage.browser.ts"),
    );
    server = await startTestServer(["--web-dir", webDir]);
    device = await openDevice(server.url);
  });

  after(async () => {
    await device?.close();
    await server?.stop();
    rmSync(webDir, { recursive: true, force: true });
  });

  const ready = (): Promise<unknown> =>
    device.page.waitForSelector("body[data-ready=yes]", { state: "attached" });

  it("encrypts values under a non-extractable key that survives a reload", async () => {
    await ready();
    const first = await device.page.evaluate(async () => {
      const { IndexedDbStorage } = (window as unknown as { soriTest: Api }).soriTest;
      const s = await IndexedDbStorage.open("sori:test");
      await s.put("history/chat/1", new TextEncoder().encode("안녕 DISTINCTIVE-PLAINTEXT"));
      await s.put("group/abc", new Uint8Array([1, 2, 3]));
      const list = await s.list("history/");
      s.close();
      // Look at the database as the browser keeps it.
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open("sori:test");
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const read = <T>(store: string, query: IDBValidKey | null): Promise<T> =>
        new Promise((resolve, reject) => {
          const r =
            query === null
              ? db.transaction(store).objectStore(store).getAll()
              : db.transaction(store).objectStore(store).get(query);
          r.onsuccess = () => resolve(r.result as T);
          r.onerror = () => reject(r.error);
        });
      const raw = await read<Uint8Array>("values", "history/chat/1");
      const keys = await read<CryptoKey[]>("meta", null);
      db.close();
      const rawText = Array.from(raw, (b) => String.fromCharCode(b)).join("");
      const exported = await crypto.subtle.exportKey("raw", keys[0]!).then(
        () => "yes",
        () => "refused",
      );
      return {
        list,
        plaintextVisible: rawText.includes("DISTINCTIVE"),
        keyCount: keys.length,
        isCryptoKey: keys[0] instanceof CryptoKey,
        extractable: keys[0]!.extractable,
        exported,
      };
    });
    assert.deepEqual(first, {
      list: ["history/chat/1"],
      plaintextVisible: false,
      keyCount: 1,
      isCryptoKey: true,
      extractable: false,
      exported: "refused",
    });

    await device.page.reload();
    await ready();
    const after = await device.page.evaluate(async () => {
      const { IndexedDbStorage } = (window as unknown as { soriTest: Api }).soriTest;
      const s = await IndexedDbStorage.open("sori:test");
      const text = new TextDecoder().decode(await s.get("history/chat/1"));
      const group = Array.from((await s.get("group/abc")) ?? []);
      s.close();
      await IndexedDbStorage.delete("sori:test");
      const fresh = await IndexedDbStorage.open("sori:test");
      const gone = (await fresh.get("history/chat/1")) === undefined;
      fresh.close();
      await IndexedDbStorage.delete("sori:test");
      return { text, group, gone };
    });
    assert.deepEqual(after, { text: "안녕 DISTINCTIVE-PLAINTEXT", group: [1, 2, 3], gone: true });
    assertNoErrors(device);
  });
});
