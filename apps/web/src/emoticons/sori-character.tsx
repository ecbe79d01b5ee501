import type { ReactNode } from "react";

// Sori, the pack's character: a round yellow bird-blob whose crest is a little sound wave.
// Every pose is this body with different eyes, beak, wings and props, on a 120×120 canvas.

export const INK = "#4a3527";
const BODY = "#ffd04d";
const BELLY = "#ffeaa8";
const BEAK = "#ff9a3c";
const CHEEK = "#ff8c8c";
export const TEAR = "#6cc4f5";
export const HEART = "#ff5f7e";

type Eyes = "dot" | "happy" | "closed" | "heart" | "big" | "angry" | "worried" | "sleepy" | "wink" | "teary";
type Beak = "closed" | "open" | "round" | "small";
type Wings = "down" | "wave" | "up" | "circle" | "front" | "hug";

export type Pose = {
  eyes: Eyes;
  beak: Beak;
  wings: Wings;
  /** Degrees; a bow or a lean. */
  tilt?: number;
  body?: string;
  /** Drawn behind the character (not tilted). */
  back?: ReactNode;
  /** Drawn over the character (not tilted). */
  front?: ReactNode;
  /** False hides the sound-wave crest (a hat covers it). */
  crest?: boolean;
};

const outline = { stroke: INK, strokeWidth: 3.5, strokeLinejoin: "round", strokeLinecap: "round" } as const;

function Wing({ cx, cy, angle, fill }: { cx: number; cy: number; angle: number; fill: string }): ReactNode {
  return (
    <ellipse
      cx={cx}
      cy={cy}
      rx={8}
      ry={13}
      transform={`rotate(${angle} ${cx} ${cy})`}
      fill={fill}
      {...outline}
    />
  );
}

function WingsPart({ wings, fill }: { wings: Wings; fill: string }): ReactNode {
  switch (wings) {
    case "down":
      return (
        <>
          <Wing cx={25} cy={76} angle={20} fill={fill} />
          <Wing cx={95} cy={76} angle={-20} fill={fill} />
        </>
      );
    case "wave":
      return (
        <>
          <Wing cx={25} cy={76} angle={20} fill={fill} />
          <Wing cx={100} cy={48} angle={35} fill={fill} />
        </>
      );
    case "up":
      return (
        <>
          <Wing cx={20} cy={50} angle={-35} fill={fill} />
          <Wing cx={100} cy={50} angle={35} fill={fill} />
        </>
      );
    case "circle":
      // Arms joined over the head: the Korean "동그라미" gesture for OK. A thick ink stroke under a
      // thinner body-coloured one gives an outlined arm.
      return (
        <>
          <path
            d="M28 70 C8 34 36 12 60 12 C84 12 112 34 92 70"
            fill="none"
            stroke={INK}
            strokeWidth={13}
            strokeLinecap="round"
          />
          <path
            d="M28 70 C8 34 36 12 60 12 C84 12 112 34 92 70"
            fill="none"
            stroke={fill}
            strokeWidth={7}
            strokeLinecap="round"
          />
        </>
      );
    case "front":
    case "hug":
      return null;
  }
}

function FrontWings({ wings, fill }: { wings: Wings; fill: string }): ReactNode {
  if (wings === "front")
    return (
      <>
        <Wing cx={49} cy={86} angle={-50} fill={fill} />
        <Wing cx={71} cy={86} angle={50} fill={fill} />
      </>
    );
  if (wings === "hug")
    return (
      <>
        <path
          d="M60 98 C44 88 40 78 46 72 C51 67 57 70 60 75 C63 70 69 67 74 72 C80 78 76 88 60 98Z"
          fill={HEART}
          {...outline}
        />
        <Wing cx={41} cy={84} angle={-35} fill={fill} />
        <Wing cx={79} cy={84} angle={35} fill={fill} />
      </>
    );
  return null;
}

function Eye({ x, kind }: { x: number; kind: Eyes }): ReactNode {
  const y = 60;
  switch (kind) {
    case "dot":
    case "angry":
    case "worried":
      return (
        <>
          <circle cx={x} cy={y} r={4.8} fill={INK} />
          <circle cx={x + 1.6} cy={y - 1.8} r={1.6} fill="#fff" />
        </>
      );
    case "happy":
      return <path d={`M${x - 6} ${y + 2} Q${x} ${y - 7} ${x + 6} ${y + 2}`} fill="none" {...outline} />;
    case "closed":
      return <path d={`M${x - 6} ${y - 1} Q${x} ${y + 5} ${x + 6} ${y - 1}`} fill="none" {...outline} />;
    case "sleepy":
      return <path d={`M${x - 6} ${y + 1} L${x + 6} ${y + 1}`} fill="none" {...outline} />;
    case "teary":
      return (
        <>
          <path d={`M${x - 6} ${y - 2} Q${x} ${y + 4} ${x + 6} ${y - 2}`} fill="none" {...outline} />
          <path
            d={`M${x - 2} ${y + 3} Q${x - 5} ${y + 20} ${x - 1} ${y + 32}`}
            fill="none"
            stroke={TEAR}
            strokeWidth={5}
            strokeLinecap="round"
          />
        </>
      );
    case "heart":
      return (
        <path
          d={`M${x} ${y + 6} C${x - 9} ${y} ${x - 8} ${y - 7} ${x - 3.5} ${y - 6} C${x - 1.5} ${y - 5.5} ${x} ${y - 4} ${x} ${y - 3} C${x} ${y - 4} ${x + 1.5} ${y - 5.5} ${x + 3.5} ${y - 6} C${x + 8} ${y - 7} ${x + 9} ${y} ${x} ${y + 6}Z`}
          fill={HEART}
          stroke={INK}
          strokeWidth={2}
          strokeLinejoin="round"
        />
      );
    case "big":
      return (
        <>
          <circle cx={x} cy={y - 1} r={8} fill="#fff" {...outline} />
          <circle cx={x} cy={y - 1} r={3.6} fill={INK} />
        </>
      );
    case "wink":
      return null;
  }
}

function EyesPart({ eyes }: { eyes: Eyes }): ReactNode {
  if (eyes === "wink")
    return (
      <>
        <Eye x={46} kind="dot" />
        <Eye x={74} kind="happy" />
      </>
    );
  return (
    <>
      <Eye x={46} kind={eyes} />
      <Eye x={74} kind={eyes} />
      {eyes === "angry" && <path d="M37 48 L52 54 M83 48 L68 54" fill="none" {...outline} strokeWidth={4} />}
      {eyes === "worried" && (
        <path d="M38 52 L51 47 M82 52 L69 47" fill="none" {...outline} strokeWidth={3.5} />
      )}
    </>
  );
}

function BeakPart({ beak }: { beak: Beak }): ReactNode {
  switch (beak) {
    case "closed":
      return <path d="M53 68 Q60 63 67 68 Q60 76 53 68Z" fill={BEAK} {...outline} strokeWidth={2.5} />;
    case "small":
      return <path d="M55.5 69 Q60 66 64.5 69 Q60 74 55.5 69Z" fill={BEAK} {...outline} strokeWidth={2.5} />;
    case "open":
      return (
        <>
          <path d="M52 72 Q60 90 68 72Z" fill="#e2574c" {...outline} strokeWidth={2.5} />
          <path d="M52 71 Q60 64 68 71 Q60 75 52 71Z" fill={BEAK} {...outline} strokeWidth={2.5} />
        </>
      );
    case "round":
      return (
        <>
          <ellipse cx={60} cy={74} rx={6} ry={7.5} fill="#c8453d" {...outline} strokeWidth={2.5} />
          <path d="M53 68 Q60 63 67 68 Q60 71 53 68Z" fill={BEAK} {...outline} strokeWidth={2.5} />
        </>
      );
  }
}

/** The character in one pose. */
export function SoriCharacter({
  eyes,
  beak,
  wings,
  tilt = 0,
  body = BODY,
  back,
  front,
  crest = true,
}: Pose): ReactNode {
  return (
    <>
      {back}
      <g transform={tilt ? `rotate(${tilt} 60 70)` : undefined}>
        <ellipse cx={49} cy={103} rx={7} ry={4} fill={BEAK} {...outline} strokeWidth={2.5} />
        <ellipse cx={71} cy={103} rx={7} ry={4} fill={BEAK} {...outline} strokeWidth={2.5} />
        <WingsPart wings={wings} fill={body} />
        {crest && (
          <path
            d="M52 30 Q60 23 68 30 M47 23 Q60 12 73 23"
            fill="none"
            stroke={BEAK}
            strokeWidth={4}
            strokeLinecap="round"
          />
        )}
        <ellipse cx={60} cy={68} rx={38} ry={34} fill={body} {...outline} />
        <ellipse cx={60} cy={82} rx={23} ry={15} fill={BELLY} />
        <ellipse cx={38} cy={73} rx={6} ry={4} fill={CHEEK} opacity={0.65} />
        <ellipse cx={82} cy={73} rx={6} ry={4} fill={CHEEK} opacity={0.65} />
        <EyesPart eyes={eyes} />
        <BeakPart beak={beak} />
        <FrontWings wings={wings} fill={body} />
      </g>
      {front}
    </>
  );
}
