import type { ReactNode } from "react";
import { HEART, INK, type Pose, TEAR } from "./sori-character.tsx";
import type { SoriStickerId } from "./sori-pack.ts";

// Motion and surprise lines float free of the body: a mid tone keeps them visible on light and dark chats.
const line = { fill: "none", stroke: "#a08a78", strokeWidth: 3, strokeLinecap: "round" } as const;

function Sparkle({ x, y, r, color }: { x: number; y: number; r: number; color: string }): ReactNode {
  return (
    <path
      d={`M${x} ${y - r} Q${x + r * 0.18} ${y - r * 0.18} ${x + r} ${y} Q${x + r * 0.18} ${y + r * 0.18} ${x} ${y + r} Q${x - r * 0.18} ${y + r * 0.18} ${x - r} ${y} Q${x - r * 0.18} ${y - r * 0.18} ${x} ${y - r}Z`}
      fill={color}
    />
  );
}

function SmallHeart({
  x,
  y,
  s,
  rotate = 0,
}: {
  x: number;
  y: number;
  s: number;
  rotate?: number;
}): ReactNode {
  return (
    <path
      transform={`translate(${x} ${y}) rotate(${rotate}) scale(${s})`}
      d="M0 6 C-9 0 -8 -7 -3.5 -6 C-1.5 -5.5 0 -4 0 -3 C0 -4 1.5 -5.5 3.5 -6 C8 -7 9 0 0 6Z"
      fill={HEART}
    />
  );
}

function Drop({ x, y, s = 1 }: { x: number; y: number; s?: number }): ReactNode {
  return (
    <path
      transform={`translate(${x} ${y}) scale(${s})`}
      d="M0 -8 C4 -2 6 1 6 4 A6 6 0 0 1 -6 4 C-6 1 -4 -2 0 -8Z"
      fill={TEAR}
      stroke={INK}
      strokeWidth={1.5}
    />
  );
}

/** The twelve poses of the "sori" pack. */
export const SORI_POSES: Record<SoriStickerId, Pose> = {
  hello: {
    eyes: "dot",
    beak: "open",
    wings: "wave",
    back: (
      <>
        <path d="M99 20 Q107 23 109 32" {...line} />
        <path d="M102 10 Q114 15 116 29" {...line} />
      </>
    ),
    front: <Sparkle x={20} y={30} r={8} color="#ffb703" />,
  },
  love: {
    eyes: "heart",
    beak: "small",
    wings: "hug",
    front: (
      <>
        <SmallHeart x={18} y={26} s={1.3} rotate={-15} />
        <SmallHeart x={102} y={18} s={1.7} rotate={12} />
        <SmallHeart x={106} y={44} s={0.9} rotate={20} />
      </>
    ),
  },
  laugh: {
    eyes: "happy",
    beak: "open",
    wings: "up",
    tilt: -6,
    front: (
      <>
        <Drop x={34} y={56} s={0.7} />
        <Drop x={88} y={56} s={0.7} />
        <path d="M8 76 Q4 84 8 92 M112 76 Q116 84 112 92" {...line} />
      </>
    ),
  },
  cry: {
    eyes: "teary",
    beak: "open",
    wings: "down",
    front: (
      <>
        <Drop x={16} y={40} />
        <Drop x={104} y={36} s={0.8} />
        <ellipse cx={60} cy={112} rx={30} ry={4} fill={TEAR} opacity={0.55} />
      </>
    ),
  },
  thanks: {
    eyes: "closed",
    beak: "small",
    wings: "front",
    tilt: -14,
    front: (
      <>
        <Sparkle x={98} y={24} r={9} color="#ffb703" />
        <Sparkle x={110} y={44} r={5} color="#ff8fab" />
        <Sparkle x={16} y={50} r={5} color="#ffb703" />
      </>
    ),
  },
  ok: {
    eyes: "happy",
    beak: "open",
    wings: "circle",
    front: <Sparkle x={108} y={92} r={7} color="#ffb703" />,
  },
  sorry: {
    eyes: "worried",
    beak: "small",
    wings: "front",
    tilt: 6,
    front: <Drop x={96} y={38} s={1.1} />,
  },
  angry: {
    eyes: "angry",
    beak: "closed",
    wings: "down",
    body: "#ff9f6b",
    back: (
      <>
        <path
          d="M10 40 Q4 32 12 28 Q12 20 20 22 Q26 16 30 24"
          fill="#eee"
          stroke={INK}
          strokeWidth={2.5}
          strokeLinejoin="round"
        />
        <path
          d="M110 40 Q116 32 108 28 Q108 20 100 22 Q94 16 90 24"
          fill="#eee"
          stroke={INK}
          strokeWidth={2.5}
          strokeLinejoin="round"
        />
      </>
    ),
    // The "anger vein" mark of comics, in red.
    front: (
      <path
        d="M84 38 Q88 42 92 38 M96 34 Q92 38 96 42 M84 46 Q88 42 92 46 M80 34 Q84 38 80 42"
        fill="none"
        stroke="#e63946"
        strokeWidth={3}
        strokeLinecap="round"
        transform="translate(6 -8)"
      />
    ),
  },
  sleepy: {
    eyes: "sleepy",
    beak: "small",
    wings: "down",
    tilt: 8,
    front: (
      <>
        <path
          d="M86 14 h12 l-12 14 h12"
          fill="none"
          stroke="#7b6cf6"
          strokeWidth={3.5}
          strokeLinecap="round"
          strokeLinejoin="round"
        />
        <path
          d="M102 32 h8 l-8 9 h8"
          fill="none"
          stroke="#7b6cf6"
          strokeWidth={3}
          strokeLinecap="round"
          strokeLinejoin="round"
        />
        <circle cx={73} cy={80} r={7} fill="#bfe6ff" stroke={INK} strokeWidth={1.5} opacity={0.9} />
      </>
    ),
  },
  surprised: {
    eyes: "big",
    beak: "round",
    wings: "up",
    front: (
      <>
        <path d="M34 16 L28 7 M25 26 L15 21 M86 16 L92 7 M95 26 L105 21" {...line} strokeWidth={3.5} />
      </>
    ),
  },
  party: {
    eyes: "happy",
    beak: "open",
    wings: "up",
    crest: false,
    front: (
      <>
        <path
          d="M44 38 L60 4 L76 38 Q60 44 44 38Z"
          fill="#7b6cf6"
          stroke={INK}
          strokeWidth={3}
          strokeLinejoin="round"
        />
        <path d="M52 22 L68 24 M48 31 L72 33" stroke="#ffd04d" strokeWidth={3} strokeLinecap="round" />
        <circle cx={60} cy={4} r={4} fill="#ff5f7e" stroke={INK} strokeWidth={2} />
        <rect x={12} y={20} width={6} height={10} rx={1.5} fill="#ff5f7e" transform="rotate(-25 15 25)" />
        <rect x={100} y={12} width={6} height={10} rx={1.5} fill="#3ba7d6" transform="rotate(30 103 17)" />
        <rect x={106} y={60} width={5} height={9} rx={1.5} fill="#2fae8e" transform="rotate(-20 108 64)" />
        <circle cx={26} cy={8} r={3} fill="#ffb703" />
        <circle cx={92} cy={34} r={2.5} fill="#2fae8e" />
        <circle cx={8} cy={56} r={3} fill="#7b6cf6" />
      </>
    ),
  },
  bye: {
    eyes: "wink",
    beak: "small",
    wings: "wave",
    tilt: 5,
    back: (
      <>
        <path d="M99 20 Q107 23 109 32" {...line} />
        <path d="M102 10 Q114 15 116 29" {...line} />
      </>
    ),
    front: <path d="M8 86 q5 -5 10 0 t10 0 M14 96 q5 -5 10 0 t10 0" {...line} strokeWidth={2.5} />,
  },
};
