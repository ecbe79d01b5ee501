// Which requests the service worker answers from its cache. Pure, shared by the worker and its tests.

/** Paths the worker never touches: the API (HTTP and WebSocket) and the health check are always live. */
export function isLive(pathname: string): boolean {
  return pathname === "/api" || pathname.startsWith("/api/") || pathname === "/healthz";
}

/** The cache of one build: a new build gets a new cache, the old one is deleted once the new worker runs. */
export function shellCacheName(version: string): string {
  return `sori-shell-${version}`;
}

/** Whether a cache name is a shell cache of some build (to delete those of older builds). */
export function isShellCache(name: string): boolean {
  return name.startsWith("sori-shell-");
}
