import { type ReactNode, useState } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import "./confirm-action.css";

/**
 * A danger button that asks first: pressing it shows `prompt` with Cancel and a confirm button
 * (test ids `testId` and `${testId}-confirm`). Used for leaving a group and signing out.
 */
export function ConfirmAction(props: {
  label: string;
  prompt: string;
  busy: boolean;
  busyLabel?: string;
  onConfirm: () => void;
  testId: string;
}): ReactNode {
  const { t } = useI18n();
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button
        type="button"
        className="button danger wide"
        data-testid={props.testId}
        onClick={() => setConfirming(true)}
      >
        {props.label}
      </button>
    );
  }
  return (
    <div className="confirm" role="alertdialog" aria-label={props.label}>
      <p>{props.prompt}</p>
      <div className="row-actions">
        <button type="button" className="button" onClick={() => setConfirming(false)}>
          {t("common.cancel")}
        </button>
        <button
          type="button"
          className="button danger"
          data-testid={`${props.testId}-confirm`}
          disabled={props.busy}
          onClick={props.onConfirm}
        >
          {props.busy && props.busyLabel ? props.busyLabel : props.label}
        </button>
      </div>
    </div>
  );
}
