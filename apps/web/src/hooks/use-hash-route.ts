import { useSyncExternalStore } from "react";

/** Where the person is: the hash keeps it, so reload and the browser's back button work. */
export type Route =
  | { name: "list" }
  | { name: "chat"; chatId: string }
  | { name: "group-info"; chatId: string }
  | { name: "settings" };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/");
  if (parts[0] === "chat" && parts[1]) {
    let chatId: string;
    try {
      chatId = decodeURIComponent(parts[1]);
    } catch {
      // A hand-edited hash with a broken %-escape: show the list rather than fail.
      return { name: "list" };
    }
    return parts[2] === "info" ? { name: "group-info", chatId } : { name: "chat", chatId };
  }
  if (parts[0] === "settings") return { name: "settings" };
  return { name: "list" };
}

export function routeHash(route: Route): string {
  switch (route.name) {
    case "list":
      return "#/";
    case "chat":
      return `#/chat/${encodeURIComponent(route.chatId)}`;
    case "group-info":
      return `#/chat/${encodeURIComponent(route.chatId)}/info`;
    case "settings":
      return "#/settings";
  }
}

export function navigate(route: Route): void {
  const hash = routeHash(route);
  if (window.location.hash !== hash) window.location.hash = hash;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

export function useHashRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}
