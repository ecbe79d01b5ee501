import type { SoriClient, StickerPack } from "@sori/sdk";
import { useCallback, useEffect, useState } from "react";

const CHANGED = "sori-sticker-packs-changed";

/** Tells every view of the sticker packs to reload (after create, add or remove). */
export function notifyStickerPacksChanged(): void {
  window.dispatchEvent(new Event(CHANGED));
}

/** The user-made and added sticker packs on this device (not the built-in one). */
export function useStickerPacks(client: SoriClient): StickerPack[] | null {
  const [packs, setPacks] = useState<StickerPack[] | null>(null);
  const load = useCallback(() => {
    client
      .stickerPacks()
      .then(setPacks)
      .catch(() => setPacks([]));
  }, [client]);
  useEffect(() => {
    load();
    window.addEventListener(CHANGED, load);
    return () => window.removeEventListener(CHANGED, load);
  }, [load]);
  return packs;
}
