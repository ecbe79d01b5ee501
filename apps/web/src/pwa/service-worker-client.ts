// The page's side of the service worker (src/sw/service-worker.ts): registering it, noticing that a
// new build is waiting, and switching to it only when the person asks.
import type { LanguagePreference } from "../i18n/language.ts";
import { WORKER_SETTINGS_CACHE, WORKER_SETTINGS_KEY, type WorkerSettings } from "../sw/wake-notice.ts";

type UpdateState = { waiting: ServiceWorker | null };

let state: UpdateState = { waiting: null };
const listeners = new Set<() => void>();

function setWaiting(waiting: ServiceWorker | null): void {
  if (state.waiting === waiting) return;
  state = { waiting };
  for (const l of listeners) l();
}

export function subscribeUpdate(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function getUpdateSnapshot(): UpdateState {
  return state;
}

/** Whether this browser can run the worker (under `vite dev` there is no built sw.js: registering fails, harmlessly). */
function serviceWorkerSupported(): boolean {
  return typeof navigator !== "undefined" && "serviceWorker" in navigator;
}

/**
 * Registers /sw.js. A worker that installs while another controls the page is a new build: it waits
 * (the worker never skips waiting by itself) and the page offers to reload into it.
 */
export async function registerServiceWorker(): Promise<void> {
  if (!serviceWorkerSupported()) return;
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  const track = (worker: ServiceWorker | null): void => {
    if (!worker) return;
    const settle = (): void => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) setWaiting(worker);
    };
    settle();
    worker.addEventListener("statechange", settle);
  };
  track(registration.waiting);
  track(registration.installing);
  registration.addEventListener("updatefound", () => track(registration.installing));
}

/** Switches to the waiting build: it takes over, and the page reloads once it has. */
export function applyUpdate(): void {
  const waiting = state.waiting;
  if (!waiting) return;
  navigator.serviceWorker.addEventListener("controllerchange", () => window.location.reload(), {
    once: true,
  });
  waiting.postMessage({ type: "skip-waiting" });
}

/** Leaves the chosen UI language where the worker finds it (it cannot read localStorage). */
export async function saveWorkerSettings(language: LanguagePreference): Promise<void> {
  if (typeof caches === "undefined") return;
  const settings: WorkerSettings = { language };
  const cache = await caches.open(WORKER_SETTINGS_CACHE);
  await cache.put(
    WORKER_SETTINGS_KEY,
    new Response(JSON.stringify(settings), { headers: { "content-type": "application/json" } }),
  );
}

/**
 * The person is looking at the app: the wake-up notifications and the badge have done their job
 * (what came is on the screen now).
 */
export async function clearWakeNotices(): Promise<void> {
  if ("clearAppBadge" in navigator) await navigator.clearAppBadge().catch(() => undefined);
  if (!serviceWorkerSupported()) return;
  const registration = await navigator.serviceWorker.getRegistration();
  for (const n of (await registration?.getNotifications()) ?? []) n.close();
}
