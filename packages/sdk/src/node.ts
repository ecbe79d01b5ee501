// Node-only additions to the SDK (file-backed storage); the browser build imports "@sori/sdk" only.
export { FileStorage } from "./storage/file-storage.node.ts";
