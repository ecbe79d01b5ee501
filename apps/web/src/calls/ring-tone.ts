/**
 * Ring sounds made with WebAudio (no audio files): a two-tone ring for an incoming call and the
 * Korean-style ring-back (440 + 480 Hz) while calling. Returns a function that stops the sound.
 */
export function playRingTone(kind: "incoming" | "ringback"): () => void {
  let ctx: AudioContext;
  try {
    ctx = new AudioContext();
  } catch {
    return () => undefined;
  }
  const gain = ctx.createGain();
  gain.gain.value = 0;
  gain.connect(ctx.destination);
  const freqs = kind === "incoming" ? [660, 880] : [440, 480];
  const oscillators = freqs.map((f) => {
    const o = ctx.createOscillator();
    o.frequency.value = f;
    o.connect(gain);
    o.start();
    return o;
  });
  const periodS = kind === "incoming" ? 3 : 4;
  const onS = kind === "incoming" ? 1.2 : 1;
  const level = kind === "incoming" ? 0.12 : 0.08;
  const schedule = (): void => {
    const t = ctx.currentTime + 0.05;
    gain.gain.setValueAtTime(level, t);
    gain.gain.setValueAtTime(0, t + onS);
  };
  schedule();
  const timer = setInterval(schedule, periodS * 1000);
  return () => {
    clearInterval(timer);
    for (const o of oscillators) o.stop();
    void ctx.close().catch(() => undefined);
  };
}
