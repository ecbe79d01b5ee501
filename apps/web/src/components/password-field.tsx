import { type ReactNode, useId } from "react";

/** A labelled password input of the sign-in and change-password forms. */
export function PasswordField({
  label,
  value,
  onChange,
  autoComplete,
  testId,
  describedBy,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  autoComplete: "current-password" | "new-password";
  testId: string;
  describedBy?: string;
}): ReactNode {
  const id = useId();
  return (
    <label className="field" htmlFor={id}>
      <span>{label}</span>
      <input
        id={id}
        className="input"
        data-testid={testId}
        type="password"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        autoComplete={autoComplete}
        aria-describedby={describedBy}
        required
      />
    </label>
  );
}
