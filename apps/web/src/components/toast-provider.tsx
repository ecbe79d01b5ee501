import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import { IconButton } from "./icon-button.tsx";
import "./toast-provider.css";

type ToastOptions = {
  /** One button beside the text (e.g. "Sign it out"); pressing it also dismisses the toast. */
  action?: { label: string; onClick: () => void; testId?: string };
  /** Stays until dismissed: for news a person must not miss (a new device, a new identity key). */
  sticky?: boolean;
  /** A data-kind for tests and styling. */
  kind?: string;
};

type Toast = { id: number; text: string } & ToastOptions;

type ToastApi = { showToast: (text: string, options?: ToastOptions) => void };

const ToastContext = createContext<ToastApi | null>(null);

const TOAST_MS = 5000;

/**
 * Short notices for failures that have no better place on screen (announced by screen readers), and
 * sticky ones with an action for security news.
 */
export function ToastProvider({ children }: { children: ReactNode }): ReactNode {
  const { t } = useI18n();
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);

  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((x) => x.id !== id)), []);

  const showToast = useCallback(
    (text: string, options: ToastOptions = {}) => {
      const id = next.current++;
      // The same sentence twice in a row says nothing new: keep one.
      setToasts((all) => [...all.filter((x) => x.text !== text), { id, text, ...options }].slice(-3));
      if (!options.sticky) window.setTimeout(() => dismiss(id), TOAST_MS);
    },
    [dismiss],
  );

  const api = useMemo(() => ({ showToast }), [showToast]);

  return (
    <ToastContext value={api}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((x) => (
          <div key={x.id} className="toast" data-testid="toast" data-kind={x.kind}>
            <span>{x.text}</span>
            {x.action && (
              <button
                type="button"
                className="toast-action"
                data-testid={x.action.testId}
                onClick={() => {
                  dismiss(x.id);
                  x.action?.onClick();
                }}
              >
                {x.action.label}
              </button>
            )}
            <IconButton
              icon="close"
              label={t("common.dismiss")}
              iconSize={16}
              className="small"
              onClick={() => dismiss(x.id)}
            />
          </div>
        ))}
      </div>
    </ToastContext>
  );
}

export function useToast(): ToastApi {
  const value = useContext(ToastContext);
  if (!value) throw new Error("useToast outside ToastProvider");
  return value;
}
