import type { ChatMessage, ChatSummary } from "@sori/sdk";
import { type ReactNode, useEffect, useRef, useState } from "react";
import { useI18n } from "../i18n/i18n-context.tsx";
import { formatDuration } from "../lib/file-size.ts";
import { useSignedIn } from "../session/client-context.ts";
import { Icon } from "./icon.tsx";
import { useToast } from "./toast-provider.tsx";
import "./voice-player.css";

let sharedContext: AudioContext | null = null;

/** One AudioContext for the page, made on the first play (browsers allow sound only after a gesture). */
function audioContext(): AudioContext {
  sharedContext ??= new AudioContext();
  return sharedContext;
}

/**
 * Plays a voice message. The decrypted audio is decoded with Web Audio rather than put in an
 * <audio> element: it stays in memory, needs no blob: URL (the server's CSP allows media only from
 * its own origin) and gives an exact length to show.
 */
export function VoicePlayer({ message: m, chat }: { message: ChatMessage; chat: ChatSummary }): ReactNode {
  const { t } = useI18n();
  const { client } = useSignedIn();
  const { showToast } = useToast();
  const [buffer, setBuffer] = useState<AudioBuffer | null>(null);
  const [loading, setLoading] = useState(false);
  const [playing, setPlaying] = useState(false);
  const [position, setPosition] = useState(0);
  const source = useRef<AudioBufferSourceNode | null>(null);
  const startedAt = useRef(0);
  const offset = useRef(0);

  const stopSource = (): void => {
    const s = source.current;
    source.current = null;
    if (s) {
      s.onended = null;
      s.stop();
    }
  };

  useEffect(() => stopSource, []);

  // The position moves while playing.
  useEffect(() => {
    if (!playing) return;
    let frame = 0;
    const tick = (): void => {
      setPosition(offset.current + audioContext().currentTime - startedAt.current);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [playing]);

  const decode = async (): Promise<AudioBuffer | null> => {
    if (buffer) return buffer;
    setLoading(true);
    try {
      const bytes = await client.downloadFile(chat.id, m.id);
      // decodeAudioData takes (and detaches) an ArrayBuffer: give it a copy of its own.
      const decoded = await audioContext().decodeAudioData(new Uint8Array(bytes).buffer);
      setBuffer(decoded);
      return decoded;
    } catch {
      showToast(t("file.downloadFailed"));
      return null;
    } finally {
      setLoading(false);
    }
  };

  const toggle = async (): Promise<void> => {
    if (playing) {
      offset.current += audioContext().currentTime - startedAt.current;
      stopSource();
      setPlaying(false);
      return;
    }
    const audio = await decode();
    if (!audio) return;
    const ctx = audioContext();
    if (ctx.state === "suspended") await ctx.resume();
    if (offset.current >= audio.duration) offset.current = 0;
    const s = ctx.createBufferSource();
    s.buffer = audio;
    s.connect(ctx.destination);
    s.onended = () => {
      source.current = null;
      offset.current = 0;
      setPosition(0);
      setPlaying(false);
    };
    startedAt.current = ctx.currentTime;
    s.start(0, offset.current);
    source.current = s;
    setPlaying(true);
  };

  const total = buffer?.duration ?? m.file?.durationS ?? 0;
  return (
    <div
      className="voice-player"
      data-testid="voice-player"
      data-state={playing ? "playing" : buffer ? "ready" : "idle"}
      data-duration={buffer ? buffer.duration.toFixed(2) : undefined}
    >
      <button
        type="button"
        className="voice-play"
        data-testid="voice-play"
        disabled={loading}
        aria-pressed={playing}
        aria-label={t("file.play")}
        onClick={() => void toggle()}
      >
        <Icon name={playing ? "stop" : "play"} size={18} />
      </button>
      <progress
        max={Math.max(total, 0.01)}
        value={Math.min(position, total)}
        aria-label={t("file.voiceLength", { duration: formatDuration(total) })}
      />
      <span className="voice-time">{formatDuration(playing ? position : total)}</span>
    </div>
  );
}
