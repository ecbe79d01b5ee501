import type { ReactNode } from "react";

// Simple 24×24 line icons drawn for Sori; `currentColor` lets CSS colour them for each theme.
const PATHS = {
  back: <path d="M15 5l-7 7 7 7" />,
  close: <path d="M6 6l12 12M18 6L6 18" />,
  newChat: (
    <>
      <path d="M20 12.5a7.5 7 0 0 1-10.7 6.3L4.5 20l1.3-4A7 7 0 0 1 4.5 12.5a7.5 7 0 0 1 15 0z" />
      <path d="M12 9.5v6M9 12.5h6" />
    </>
  ),
  group: (
    <>
      <circle cx="9" cy="8.5" r="3.2" />
      <path d="M3 19.5c.6-3.3 3-5 6-5s5.4 1.7 6 5" />
      <circle cx="16.5" cy="9.5" r="2.6" />
      <path d="M16.5 14.5c2.3 0 4 1.3 4.5 4" />
    </>
  ),
  settings: (
    <>
      <circle cx="12" cy="12" r="3" />
      <path d="M18.83 10.47 L21.12 10.81 L21.12 13.19 L18.83 13.53 L17.91 15.75 L19.29 17.61 L17.61 19.29 L15.75 17.91 L13.53 18.83 L13.19 21.12 L10.81 21.12 L10.47 18.83 L8.25 17.91 L6.39 19.29 L4.71 17.61 L6.09 15.75 L5.17 13.53 L2.88 13.19 L2.88 10.81 L5.17 10.47 L6.09 8.25 L4.71 6.39 L6.39 4.71 L8.25 6.09 L10.47 5.17 L10.81 2.88 L13.19 2.88 L13.53 5.17 L15.75 6.09 L17.61 4.71 L19.29 6.39 L17.91 8.25Z" />
    </>
  ),
  send: <path d="M4 12l16-8-6 16-2.5-6.5L4 12zM11.5 13.5L20 4" />,
  pause: <path d="M9 6v12M15 6v12" />,
  smile: (
    <>
      <circle cx="12" cy="12" r="8.5" />
      <path d="M8.5 14.2c.9 1.3 2.1 2 3.5 2s2.6-.7 3.5-2" />
      <path d="M9 9.8v.4M15 9.8v.4" />
    </>
  ),
  info: (
    <>
      <circle cx="12" cy="12" r="8.5" />
      <path d="M12 11v5.5M12 7.8v.4" />
    </>
  ),
  search: (
    <>
      <circle cx="11" cy="11" r="6" />
      <path d="M15.5 15.5L20 20" />
    </>
  ),
  check: <path d="M5 12.5l4.5 4.5L19 7.5" />,
  doubleCheck: <path d="M2.5 12.5l4.5 4.5 9.5-9.5M11 16.5l.5.5L21 7.5" />,
  clock: (
    <>
      <circle cx="12" cy="12" r="8" />
      <path d="M12 7.5V12l3 2" />
    </>
  ),
  alert: (
    <>
      <circle cx="12" cy="12" r="8.5" />
      <path d="M12 7.5v5.5M12 16v.4" />
    </>
  ),
  retry: <path d="M19 12a7 7 0 1 1-2.1-5M19 4.5V9h-4.5" />,
  lock: (
    <>
      <rect x="5.5" y="10.5" width="13" height="9.5" rx="2" />
      <path d="M8.5 10.5V8a3.5 3.5 0 0 1 7 0v2.5" />
    </>
  ),
  plus: <path d="M12 5v14M5 12h14" />,
  camera: (
    <>
      <path d="M4 8.5h3l1.5-2.5h7L17 8.5h3v10H4z" />
      <circle cx="12" cy="13" r="3.2" />
    </>
  ),
  phone: (
    <path d="M6.6 3.8l2.6-.3 1.5 4-2 1.5a11 11 0 0 0 6.3 6.3l1.5-2 4 1.5-.3 2.6a2 2 0 0 1-2.1 1.8C10.4 19.8 4.2 13.6 4.8 5.9a2 2 0 0 1 1.8-2.1z" />
  ),
  hangup: (
    <path d="M3.2 14.6l-.6-2.3C7.6 7.9 16.4 7.9 21.4 12.3l-.6 2.3-3.9.7-.6-2.4a10 10 0 0 0-8.6 0l-.6 2.4z" />
  ),
  video: (
    <>
      <rect x="3" y="6.5" width="12.5" height="11" rx="2" />
      <path d="M15.5 10.5l5.5-3v9l-5.5-3z" />
    </>
  ),
  videoOff: (
    <>
      <path d="M15.5 11.5v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h2.5M11 6.5h2.5a2 2 0 0 1 2 2v2l5.5-3v9l-2-1.1" />
      <path d="M3.5 3.5l17 17" />
    </>
  ),
  mic: (
    <>
      <rect x="9" y="3.5" width="6" height="11" rx="3" />
      <path d="M5.5 11.5a6.5 6.5 0 0 0 13 0M12 18v3" />
    </>
  ),
  micOff: (
    <>
      <path d="M15 10V6.5a3 3 0 0 0-5.6-1.5M9 9v2.5a3 3 0 0 0 4.6 2.5M5.5 11.5a6.5 6.5 0 0 0 10.4 5.2M18.5 11.5c0 .8-.1 1.5-.4 2.2M12 18v3" />
      <path d="M3.5 3.5l17 17" />
    </>
  ),
  sliders: <path d="M5 6.5h9M18 6.5h1M5 12h3M12 12h7M5 17.5h8M17 17.5h2M16 4.5v4M10 10v4M15 15.5v4" />,
  phoneMissed: (
    <>
      <path d="M6.6 3.8l2.6-.3 1.5 4-2 1.5a11 11 0 0 0 6.3 6.3l1.5-2 4 1.5-.3 2.6a2 2 0 0 1-2.1 1.8C10.4 19.8 4.2 13.6 4.8 5.9a2 2 0 0 1 1.8-2.1z" />
      <path d="M15 3.5l5 5M20 3.5l-5 5" />
    </>
  ),
  // Twelve keys of a phone's keypad, the last row only its 0.
  dialpad: (
    <>
      {[4.5, 9.5, 14.5].flatMap((y) =>
        [6, 12, 18].map((x) => <circle key={`${x},${y}`} cx={x} cy={y} r="1.4" />),
      )}
      <circle cx="12" cy="19.5" r="1.4" />
    </>
  ),
  backspace: <path d="M9 5.5h10.5v13H9L3.5 12zM11.5 9.5l5 5M16.5 9.5l-5 5" />,
  reply: <path d="M10 7L5 12l5 5M5.5 12H14a5 5 0 0 1 5 5v1" />,
  edit: <path d="M5 19l1-4 9.5-9.5 3 3L9 18l-4 1zM13.5 7.5l3 3" />,
  copy: (
    <>
      <rect x="8.5" y="8.5" width="11" height="11" rx="2" />
      <path d="M15.5 8.5V6a1.5 1.5 0 0 0-1.5-1.5H6A1.5 1.5 0 0 0 4.5 6v8A1.5 1.5 0 0 0 6 15.5h2.5" />
    </>
  ),
  forward: <path d="M14 7l5 5-5 5M18.5 12H10a5 5 0 0 0-5 5v1" />,
  trash: <path d="M5 7h14M10 7V5h4v2M7 7l1 12.5h8L17 7M10.5 10.5v6M13.5 10.5v6" />,
  more: (
    <>
      <circle cx="6" cy="12" r="1" />
      <circle cx="12" cy="12" r="1" />
      <circle cx="18" cy="12" r="1" />
    </>
  ),
  timer: (
    <>
      <circle cx="12" cy="13" r="7" />
      <path d="M12 9.5V13l2.5 1.5M10 3.5h4" />
    </>
  ),
  warning: <path d="M12 4l9 16H3zM12 10v4.5M12 17v.4" />,
  attach: (
    <path d="M19 11.5l-7.2 7.2a4.5 4.5 0 0 1-6.4-6.4l7.5-7.5a3 3 0 0 1 4.3 4.3l-7.4 7.4a1.5 1.5 0 0 1-2.1-2.1l6.8-6.8" />
  ),
  play: <path d="M8 5.5v13l10.5-6.5z" />,
  download: <path d="M12 4.5v10M7.5 10.5l4.5 4.5 4.5-4.5M5 19.5h14" />,
  file: (
    <path d="M13.5 3.5H7A1.5 1.5 0 0 0 5.5 5v14A1.5 1.5 0 0 0 7 20.5h10a1.5 1.5 0 0 0 1.5-1.5V8.5zM13.5 3.5v5h5" />
  ),
  stop: <rect x="7" y="7" width="10" height="10" rx="1.5" />,
  shield: <path d="M12 3.5l7 2.5v5.5c0 4.3-3 7.6-7 9-4-1.4-7-4.7-7-9V6z" />,
  shieldCheck: <path d="M12 3.5l7 2.5v5.5c0 4.3-3 7.6-7 9-4-1.4-7-4.7-7-9V6zM8.8 12.2l2.3 2.3 4.2-4.5" />,
} satisfies Record<string, ReactNode>;

export type IconName = keyof typeof PATHS;

/** A decorative icon: the button or label around it carries the accessible name. */
export function Icon({ name, size = 22 }: { name: IconName; size?: number }): ReactNode {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.8"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {PATHS[name]}
    </svg>
  );
}
