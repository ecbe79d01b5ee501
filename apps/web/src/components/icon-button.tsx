import type { ComponentProps, ReactNode } from "react";
import { Icon, type IconName } from "./icon.tsx";

type IconButtonProps = {
  icon: IconName;
  /** Accessible name, also shown as the tooltip. */
  label: string;
  iconSize?: number;
} & Omit<ComponentProps<"button">, "children" | "aria-label" | "title" | "type">;

/** A button that shows only an icon; its label is its accessible name and tooltip. */
export function IconButton({ icon, label, iconSize, className, ...rest }: IconButtonProps): ReactNode {
  return (
    <button
      type="button"
      className={className ? `icon-button ${className}` : "icon-button"}
      aria-label={label}
      title={label}
      {...rest}
    >
      <Icon name={icon} {...(iconSize === undefined ? {} : { size: iconSize })} />
    </button>
  );
}
