// Node-only additions to the SDK (file-backed storage); the browser build imports "@sori/sdk" only.
export { FileStorage } from "./file-storage.node.ts";
