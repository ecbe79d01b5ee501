import type { ChatMessage } from "@sori/sdk";
import { type ReactNode, useEffect, useState } from "react";
import { useChats } from "../hooks/use-chats.ts";
import { navigate } from "../hooks/use-hash-route.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { formatListTime } from "../lib/format-time.ts";
import { requestJump } from "../lib/jump.ts";
import { useSignedIn } from "../session/client-context.ts";
import "./chat-list-item.css";
import "./message-search-results.css";

const MIN_QUERY = 2;
const LIMIT = 30;
const DEBOUNCE_MS = 250;

/**
 * Messages matching the chat-list search, from this device's local history (the server holds only
 * ciphertext, so search can only happen here). A result opens its chat at that message.
 */
export function MessageSearchResults({ query, onOpen }: { query: string; onOpen: () => void }): ReactNode {
  const { t, language } = useI18n();
  const { client } = useSignedIn();
  const chats = useChats();
  const [results, setResults] = useState<{ query: string; found: ChatMessage[] } | null>(null);
  const q = query.trim();

  useEffect(() => {
    if (q.length < MIN_QUERY) return;
    let cancelled = false;
    const timer = window.setTimeout(() => {
      client
        .search(q, { limit: LIMIT })
        .then((found) => !cancelled && setResults({ query: q, found }))
        .catch(() => !cancelled && setResults({ query: q, found: [] }));
    }, DEBOUNCE_MS);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [client, q]);

  if (q.length < MIN_QUERY) return null;
  const found = results?.query === q ? results.found.filter((m) => m.kind !== "system" && m.text) : null;
  if (found && found.length === 0) return null;

  return (
    <section className="search-messages" aria-label={t("search.messages")} data-testid="message-search">
      <h3 className="list-heading">{t("search.messages")}</h3>
      {!found ? (
        <p className="list-note muted" role="status">
          {t("search.searching")}
        </p>
      ) : (
        <ul className="chat-items">
          {found.map((m) => {
            const chatName = chats?.find((c) => c.id === m.chat)?.name ?? "";
            return (
              <li key={`${m.chat}:${m.id}`}>
                <button
                  type="button"
                  className="search-result"
                  data-testid="search-result"
                  data-message-id={m.id}
                  onClick={() => {
                    requestJump(m.id);
                    navigate({ name: "chat", chatId: m.chat });
                    onOpen();
                  }}
                >
                  <span className="chat-item-top">
                    <span className="chat-item-name">{chatName}</span>
                    <time className="chat-item-time" dateTime={new Date(m.sentAt).toISOString()}>
                      {formatListTime(m.sentAt, Date.now(), language, t("time.yesterday"))}
                    </time>
                  </span>
                  <span className="chat-item-preview">
                    {m.outgoing ? `${t("preview.me")}: ` : `${m.from}: `}
                    {m.text}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
