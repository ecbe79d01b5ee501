import type { ChatMessage, ChatSummary } from "@sori/sdk";
import { type ReactNode, useState } from "react";
import { notifyStickerPacksChanged, useStickerPacks } from "../hooks/use-sticker-packs.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import { Icon } from "./icon.tsx";
import { useToast } from "./toast-provider.tsx";
import "./file-message.css";
import "./sticker-pack-card.css";

/** A sticker pack someone shared in the chat, with a button to add it to one's own stickers. */
export function StickerPackCard({
  message: m,
  chat,
}: {
  message: ChatMessage;
  chat: ChatSummary;
}): ReactNode {
  const { t, tp } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const packs = useStickerPacks(client);
  const [busy, setBusy] = useState(false);
  const info = m.stickerPack;
  if (!info) return null;
  const have = packs?.some((p) => p.id === info.id) ?? false;

  const add = (): void => {
    setBusy(true);
    client
      .addStickerPack(chat.id, m.id)
      .then((p) => {
        notifyStickerPacksChanged();
        showToast(t("pack.added", { name: p.name }));
      })
      .catch((e: unknown) => showToast(t(errorMessageKey(e))))
      .finally(() => setBusy(false));
  };

  return (
    <div className="pack-card" data-testid="sticker-pack-card" data-pack-id={info.id}>
      <Icon name="smile" size={28} />
      <div className="file-card-text">
        <span className="muted small-text">{t("pack.card")}</span>
        <span className="file-name">{info.name}</span>
        <span className="file-size">{tp("pack.count", info.count)}</span>
      </div>
      {have ? (
        <span className="pack-have" data-testid="sticker-pack-have">
          <Icon name="check" size={16} />
          {t("pack.have")}
        </span>
      ) : (
        <button
          type="button"
          className="button small"
          data-testid="sticker-pack-add"
          disabled={busy || packs === null}
          onClick={add}
        >
          {busy ? t("pack.adding") : t("pack.add")}
        </button>
      )}
    </div>
  );
}
