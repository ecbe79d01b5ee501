import type { ReactNode } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";

/** The end of a dialog's form: its error (announced), Cancel, and the submit button with a busy label. */
export function DialogFormFooter({
  error,
  errorTestId,
  onCancel,
  submitTestId,
  busy,
  disabled = false,
  label,
  busyLabel,
}: {
  error: string | null;
  errorTestId?: string;
  onCancel: () => void;
  submitTestId: string;
  busy: boolean;
  /** Disabled for another reason than being busy (e.g. an empty field). */
  disabled?: boolean;
  label: string;
  busyLabel: string;
}): ReactNode {
  const { t } = useI18n();
  return (
    <>
      {error && (
        <p className="form-error" role="alert" data-testid={errorTestId}>
          {error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onCancel}>
          {t("common.cancel")}
        </button>
        <button
          type="submit"
          className="button primary"
          data-testid={submitTestId}
          disabled={busy || disabled}
        >
          {busy ? busyLabel : label}
        </button>
      </div>
    </>
  );
}
