import type { ReactNode } from "react";
import "./approval-code.css";

/**
 * The twelve digits two devices compare before one approves the other ("1234 5678 9012"), large and
 * in groups; read as one number by screen readers, digit by digit.
 */
export function ApprovalCode({
  code,
  label,
  testId,
  size = "large",
}: {
  code: string;
  label: string;
  testId: string;
  size?: "large" | "small";
}): ReactNode {
  const groups = code.split(/\s+/).filter(Boolean);
  return (
    <p
      className={`approval-code ${size}`}
      data-testid={testId}
      data-code={groups.join("")}
      role="img"
      aria-label={`${label}: ${groups.join(" ").split("").join(" ")}`}
    >
      {groups.map((g, i) => (
        <span key={i}>{g}</span>
      ))}
    </p>
  );
}
