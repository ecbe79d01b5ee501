import { type ReactNode, useState } from "react";
import { useClientEvent } from "../hooks/use-client-event.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import { Dialog } from "./dialog.tsx";
import { useToast } from "./toast-provider.tsx";

type NewDevice = { deviceId: string; name: string };

/**
 * "A new device was added": on every device of the account when another one became part of it (the
 * SDK's `own-device` event), a toast that stays, with "Sign it out" (confirmed first) and the advice to
 * change the password. Quiet for a device this one approved itself or is linking right now.
 */
export function OwnDeviceNotice(): ReactNode {
  const { t } = useI18n();
  const { client, approvals } = useSignedIn();
  const { showToast } = useToast();
  const [confirming, setConfirming] = useState<NewDevice | null>(null);
  const [busy, setBusy] = useState(false);

  useClientEvent(client, "own-device", (d) => {
    if (d.deviceId === client.deviceId || approvals.expected(d.deviceId)) return;
    showToast(t("ownDevice.added", { name: d.name }), {
      sticky: true,
      kind: "own-device",
      action: {
        label: t("ownDevice.signOut"),
        testId: "own-device-sign-out",
        onClick: () => setConfirming({ deviceId: d.deviceId, name: d.name }),
      },
    });
  });

  if (!confirming) return null;
  const signOut = (): void => {
    setBusy(true);
    client
      .revokeDevice(confirming.deviceId)
      .then(() => {
        setConfirming(null);
        showToast(t("ownDevice.signedOut", { name: confirming.name }), { sticky: true });
      })
      .catch((e: unknown) => showToast(t(errorMessageKey(e))))
      .finally(() => setBusy(false));
  };
  return (
    <Dialog
      title={t("ownDevice.confirmTitle", { name: confirming.name })}
      onClose={() => setConfirming(null)}
      testId="own-device-confirm"
    >
      <p>{t("ownDevice.confirmBody")}</p>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={() => setConfirming(null)}>
          {t("common.cancel")}
        </button>
        <button
          type="button"
          className="button danger"
          data-testid="own-device-sign-out-confirm"
          disabled={busy}
          onClick={signOut}
        >
          {t("devices.revoke")}
        </button>
      </div>
    </Dialog>
  );
}
