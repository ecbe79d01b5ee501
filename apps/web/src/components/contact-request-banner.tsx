import { bridgedNetworkOf } from "@sori/sdk";
import type { ReactNode } from "react";
import type { PendingContactRequest } from "../hooks/use-contact-request.ts";
import { useI18n } from "../i18n/i18n-context.tsx";
import { Icon } from "./icon.tsx";
import "./contact-request-banner.css";

/**
 * Above the composer while the chat's other person asked to be a contact and this person has not
 * answered. For someone on another network, accepting also lets them see this person's presence
 * (their gateway shows it only to contacts), so the banner says so.
 */
export function ContactRequestBanner({
  request,
  onAnswer,
}: {
  request: PendingContactRequest;
  onAnswer: (how: "accept" | "decline") => void;
}): ReactNode {
  const { t } = useI18n();
  const name = request.username;
  const bridged = bridgedNetworkOf(name) !== undefined;
  return (
    <div
      className="contact-banner"
      role="region"
      aria-label={t("contact.request.text", { name })}
      data-testid="contact-banner"
    >
      <Icon name="group" size={18} />
      <p data-testid="contact-banner-text">
        {t(bridged ? "contact.request.bridgedText" : "contact.request.text", { name })}
      </p>
      <div className="contact-banner-actions">
        <button
          type="button"
          className="button small"
          data-testid="contact-decline"
          aria-label={t("contact.declineNamed", { name })}
          disabled={request.answering !== null}
          onClick={() => onAnswer("decline")}
        >
          {t("contact.decline")}
        </button>
        <button
          type="button"
          className="button small primary"
          data-testid="contact-accept"
          aria-label={t("contact.acceptNamed", { name })}
          disabled={request.answering !== null}
          onClick={() => onAnswer("accept")}
        >
          {t("contact.accept")}
        </button>
      </div>
    </div>
  );
}
