// Browser-only additions to the SDK (IndexedDB storage); Node code imports "@sori/sdk/node" instead.
export { IndexedDbStorage } from "./indexeddb-storage.browser.ts";
