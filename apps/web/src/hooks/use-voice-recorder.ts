import { useCallback, useEffect, useRef, useState } from "react";

/** Longest voice message; the composer sends it when the counter gets there. */
export const MAX_VOICE_S = 300;
const MIME_CHOICES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];

type VoiceClip = { blob: Blob; mime: string; durationS: number };

export type VoiceRecorder = {
  state: "idle" | "recording";
  /** Seconds recorded so far, for the on-screen counter. */
  elapsedS: number;
  /** Asks for the microphone and starts; rejects (a DOMException) when it is refused or missing. */
  start: () => Promise<void>;
  /** Stops and returns the clip; null if nothing was recorded. */
  stop: () => Promise<VoiceClip | null>;
  /** Stops and throws the recording away. */
  cancel: () => void;
};

/** Records a voice message with MediaRecorder; the microphone is released as soon as it stops. */
export function useVoiceRecorder(): VoiceRecorder {
  const [state, setState] = useState<VoiceRecorder["state"]>("idle");
  const [elapsedS, setElapsedS] = useState(0);
  const rec = useRef<{
    recorder: MediaRecorder;
    stream: MediaStream;
    chunks: Blob[];
    startedAt: number;
    ticker: number;
  } | null>(null);

  const release = useCallback((): void => {
    const r = rec.current;
    if (!r) return;
    window.clearInterval(r.ticker);
    for (const track of r.stream.getTracks()) track.stop();
    rec.current = null;
    setState("idle");
    setElapsedS(0);
  }, []);

  const stop = useCallback((): Promise<VoiceClip | null> => {
    const r = rec.current;
    if (!r) return Promise.resolve(null);
    return new Promise((resolve) => {
      r.recorder.addEventListener(
        "stop",
        () => {
          const durationS = Math.max(1, Math.round((Date.now() - r.startedAt) / 1000));
          const mime = r.recorder.mimeType || "audio/webm";
          const blob = new Blob(r.chunks, { type: mime });
          release();
          resolve(blob.size > 0 ? { blob, mime, durationS } : null);
        },
        { once: true },
      );
      if (r.recorder.state !== "inactive") r.recorder.stop();
    });
  }, [release]);

  const cancel = useCallback((): void => {
    const r = rec.current;
    if (r && r.recorder.state !== "inactive") r.recorder.stop();
    release();
  }, [release]);

  const start = useCallback(async (): Promise<void> => {
    if (rec.current) return;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const mimeType = MIME_CHOICES.find((m) => MediaRecorder.isTypeSupported(m));
    const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
    const chunks: Blob[] = [];
    recorder.addEventListener("dataavailable", (e) => {
      if (e.data.size > 0) chunks.push(e.data);
    });
    const startedAt = Date.now();
    const ticker = window.setInterval(() => {
      setElapsedS(Math.floor((Date.now() - startedAt) / 1000));
    }, 250);
    rec.current = { recorder, stream, chunks, startedAt, ticker };
    recorder.start(1000);
    setState("recording");
  }, []);

  // Leaving the chat mid-recording must not leave the microphone on.
  useEffect(() => cancel, [cancel]);

  return { state, elapsedS, start, stop, cancel };
}
