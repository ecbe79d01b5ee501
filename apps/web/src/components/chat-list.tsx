import { BRIDGED_USERNAME_PATTERN, USERNAME_PATTERN } from "@sori/protocol";
import { type ReactNode, useEffect, useId, useState } from "react";
import { Sticker } from "../emoticons/sticker.tsx";
import { useChats } from "../hooks/use-chats.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { useSignedIn } from "../session/client-context.ts";
import { ChatListItem } from "./chat-list-item.tsx";
import { Icon } from "./icon.tsx";
import { MessageSearchResults } from "./message-search-results.tsx";
import { PersonResult } from "./person-result.tsx";
import "./chat-list.css";

/** The person a search found by exact username, if there is no direct chat with them yet. */
type Lookup = { query: string; found: { userId: string; username: string } | null } | null;

/** Every chat, newest first, with a search over names and usernames that also finds new people. */
export function ChatList({
  selectedId,
  onNewChat,
  onNewGroup,
}: {
  selectedId: string | null;
  onNewChat: () => void;
  onNewGroup: () => void;
}): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const chats = useChats();
  const [query, setQuery] = useState("");
  const [lookup, setLookup] = useState<Lookup>(null);
  const searchId = useId();

  const q = query.trim().toLowerCase();
  const shown = !chats
    ? []
    : q
      ? chats.filter(
          (c) => c.name.toLowerCase().includes(q) || c.members.some((m) => m.toLowerCase().includes(q)),
        )
      : chats;

  // Searching for an exact username nobody is chatting with yet offers to start a chat with them.
  const hasDirect = chats?.some((c) => c.kind === "direct" && c.name.toLowerCase() === q) ?? false;
  const lookupWanted =
    q !== "" &&
    (USERNAME_PATTERN.test(q) || BRIDGED_USERNAME_PATTERN.test(q)) &&
    !hasDirect &&
    q !== client.username.toLowerCase();
  useEffect(() => {
    if (!lookupWanted) return;
    let cancelled = false;
    const timer = window.setTimeout(() => {
      client
        .findUser(q)
        .then((found) => {
          if (!cancelled) setLookup({ query: q, found: found ?? null });
        })
        .catch(() => undefined);
    }, 300);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [client, q, lookupWanted]);
  // Someone on another network (xmpp:juliet@example.org) may not be bridged yet: starting the chat
  // asks their gateway to bring them in, so they are offered even when the directory lacks them.
  const bridgedQuery = BRIDGED_USERNAME_PATTERN.test(q);
  const found = lookupWanted && lookup?.query === q ? lookup.found : null;
  const person =
    found ?? (lookupWanted && bridgedQuery && lookup?.query === q ? { userId: q, username: q } : null);
  const nobody = lookupWanted && lookup?.query === q && !person && shown.length === 0;

  return (
    <div className="chat-list">
      <div className="search">
        <label htmlFor={searchId} className="visually-hidden">
          {t("chats.search")}
        </label>
        <Icon name="search" size={18} />
        <input
          id={searchId}
          type="search"
          className="search-input"
          data-testid="chat-search"
          placeholder={t("chats.search")}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
        />
      </div>
      {chats && chats.length === 0 && !q && (
        <div className="list-empty">
          <Sticker pack="sori" id="party" size={96} />
          <p>{t("chats.empty")}</p>
          <div className="row-actions">
            <button type="button" className="button primary" onClick={onNewChat}>
              {t("chats.newChat")}
            </button>
            <button type="button" className="button" onClick={onNewGroup}>
              {t("chats.newGroup")}
            </button>
          </div>
        </div>
      )}
      {person && <PersonResult person={person} onStarted={() => setQuery("")} />}
      {q && shown.length === 0 && !person && (
        <p className="list-note muted" role="status">
          {nobody ? t("chats.searchNobody", { username: q }) : t("chats.searchNone")}
        </p>
      )}
      {shown.length > 0 && (
        <ul className="chat-items" aria-label={t("chats.title")}>
          {shown.map((c) => (
            <ChatListItem key={c.id} chat={c} selected={c.id === selectedId} />
          ))}
        </ul>
      )}
      {q && <MessageSearchResults query={query} onOpen={() => undefined} />}
    </div>
  );
}
