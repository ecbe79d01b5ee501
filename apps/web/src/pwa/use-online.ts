import { useEffect, useState } from "react";

/** How often the page asks whether the server answers again, while it did not. */
const PROBE_MS = 5000;

/**
 * Whether the server can be reached: false when the browser says it is offline, or when /healthz
 * fails (the network is up but the server is not, or the app was opened from its cache without one).
 */
export function useOnline(): boolean {
  const [online, setOnline] = useState(true);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const probe = async (): Promise<void> => {
      clearTimeout(timer);
      let ok = navigator.onLine;
      if (ok)
        ok = await fetch("/healthz", { cache: "no-store" }).then(
          (r) => r.ok,
          () => false,
        );
      if (stopped) return;
      setOnline(ok);
      // Only while unreachable: a reachable server is watched by the SDK's connection already.
      if (!ok) timer = setTimeout(() => void probe(), PROBE_MS);
    };
    const offline = (): void => {
      clearTimeout(timer);
      setOnline(false);
    };
    const back = (): void => void probe();
    void probe();
    window.addEventListener("online", back);
    window.addEventListener("offline", offline);
    return () => {
      stopped = true;
      clearTimeout(timer);
      window.removeEventListener("online", back);
      window.removeEventListener("offline", offline);
    };
  }, []);
  return online;
}
