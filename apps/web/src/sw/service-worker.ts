/// <reference lib="webworker" />
// The service worker (built to /sw.js by vite-service-worker.ts, as one classic script). It keeps this
// build's app shell in Cache Storage so the app opens without a network, and turns Web Push wake-ups
// into notifications. It never decrypts: it knows only "message" or "call" (docs/decisions/0017).
import { isLive, isShellCache, shellCacheName } from "./shell-files.ts";
import {
  noticeLanguage,
  parseWake,
  wakeNotice,
  WORKER_SETTINGS_CACHE,
  WORKER_SETTINGS_KEY,
} from "./wake-notice.ts";

declare const self: ServiceWorkerGlobalScope;
/** Set by the build: a hash of the shell's files, and their paths. */
declare const __SORI_SHELL_VERSION__: string;
declare const __SORI_SHELL_FILES__: string;

const CACHE = shellCacheName(__SORI_SHELL_VERSION__);
const INDEX = "/index.html";
const SHELL_FILES = JSON.parse(__SORI_SHELL_FILES__) as string[];

self.addEventListener("install", (event) => {
  // No skipWaiting here: a new build waits until the person reloads from the page's prompt, so it
  // never replaces the code of a running call.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL_FILES)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys())
        if (isShellCache(name) && name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  const data: unknown = event.data;
  if (typeof data === "object" && data !== null && (data as { type?: unknown }).type === "skip-waiting")
    void self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || isLive(url.pathname)) return;
  // Pages are the single-page app: this build's index.html, from the cache first, so it opens offline
  // and always matches the cached assets. Its files are named by content hash: cache first too.
  const key = request.mode === "navigate" ? INDEX : url.pathname;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const hit = await cache.match(key);
      return hit ?? fetch(request);
    })(),
  );
});

/** Whether the person is looking at the app right now: then a notification would only repeat it. */
async function appInFront(): Promise<boolean> {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  return windows.some((w) => w.visibilityState === "visible" && w.focused);
}

async function savedSettings(): Promise<unknown> {
  try {
    const hit = await (await caches.open(WORKER_SETTINGS_CACHE)).match(WORKER_SETTINGS_KEY);
    return hit ? await hit.json() : null;
  } catch {
    return null;
  }
}

self.addEventListener("push", (event) => {
  const text = event.data?.text() ?? "";
  const kind = parseWake(text);
  // Not a wake-up from the server (which only sends PushPayload): nothing to say.
  if (!kind) return;
  event.waitUntil(
    (async () => {
      if (await appInFront()) return;
      const notice = wakeNotice(kind, noticeLanguage(await savedSettings(), self.navigator.languages));
      await self.registration.showNotification(notice.title, {
        body: notice.body,
        tag: notice.tag,
        renotify: notice.renotify,
        requireInteraction: notice.requireInteraction,
        icon: "/icons/icon-192.png",
        data: { kind },
      } as NotificationOptions);
      // The worker cannot count unread messages without decrypting: a plain badge says "something new".
      if ("setAppBadge" in self.navigator) await self.navigator.setAppBadge().catch(() => undefined);
    })(),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows[0];
      if (open) await open.focus();
      else await self.clients.openWindow("/");
    })(),
  );
});
