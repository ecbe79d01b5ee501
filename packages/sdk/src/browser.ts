// Browser-only additions to the SDK (IndexedDB storage); Node code imports "@sori/sdk/node" instead.
export { IndexedDbStorage } from "./storage/indexeddb-storage.browser.ts";
