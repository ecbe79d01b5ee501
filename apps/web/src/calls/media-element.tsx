import { type ReactNode, useEffect, useRef } from "react";

/** An <audio> or <video> element playing a MediaStream. */
export function MediaElement({
  kind,
  stream,
  muted,
  label,
  className,
  testId,
}: {
  kind: "audio" | "video";
  stream: MediaStream | null;
  muted?: boolean;
  label?: string;
  className?: string;
  testId?: string;
}): ReactNode {
  const ref = useRef<HTMLVideoElement & HTMLAudioElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = stream;
    // Autoplay may be refused before any click on the page; the call still works, and the next
    // play attempt (a re-render with a new stream) tries again.
    if (stream) el.play().catch(() => undefined);
  }, [stream]);
  if (kind === "audio") return <audio ref={ref} autoPlay />;
  return (
    <video
      ref={ref}
      className={className}
      autoPlay
      playsInline
      muted={muted}
      aria-label={label}
      data-testid={testId}
    />
  );
}
