import { mulawToLinear } from "@sori/werift-calls";

/**
 * How strongly `frequencyHz` stands in `samples` compared with the signal's whole energy (Goertzel):
 * near 1 for a pure tone of that frequency, near 0 for another tone or silence.
 */
export function toneShare(samples: ArrayLike<number>, sampleRate: number, frequencyHz: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const k = Math.round((n * frequencyHz) / sampleRate);
  const w = (2 * Math.PI * k) / n;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[i]!;
    energy += x * x;
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  // A pure tone puts n/2 times its energy into its Goertzel bin.
  return energy === 0 ? 0 : power / ((energy * n) / 2);
}

/** PCMU payloads as linear samples. */
export function decodePcmu(payloads: readonly Uint8Array[]): Int16Array {
  const total = payloads.reduce((n, p) => n + p.length, 0);
  const out = new Int16Array(total);
  let i = 0;
  for (const p of payloads) for (const b of p) out[i++] = mulawToLinear(b);
  return out;
}

/** The samples and rate of a 16-bit PCM WAV file (what baresip's sndfile module writes). */
export function readWav(bytes: Buffer): { sampleRate: number; samples: Int16Array } {
  if (bytes.toString("ascii", 0, 4) !== "RIFF" || bytes.toString("ascii", 8, 12) !== "WAVE")
    throw new Error("not a WAV file");
  let offset = 12;
  let sampleRate = 0;
  let channels = 1;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString("ascii", offset, offset + 4);
    let size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === "fmt ") {
      channels = bytes.readUInt16LE(body + 2);
      sampleRate = bytes.readUInt32LE(body + 4);
    }
    if (id === "data") {
      // A file still being written may say 0 (or too much): take what is there.
      if (size === 0 || body + size > bytes.length) size = bytes.length - body;
      const all = new Int16Array(
        bytes.buffer.slice(bytes.byteOffset + body, bytes.byteOffset + body + size - (size % 2)),
      );
      if (channels === 1) return { sampleRate, samples: all };
      return { sampleRate, samples: all.filter((_, i) => i % channels === 0) };
    }
    offset = body + size + (size % 2);
  }
  throw new Error("no data in the WAV file");
}

/** A mono 16-bit WAV of a sine tone (a microphone for Chromium's fake capture). */
export function toneWav(frequencyHz: number, seconds: number, sampleRate = 48_000): Buffer {
  const n = Math.round(seconds * sampleRate);
  const out = Buffer.alloc(44 + n * 2);
  out.write("RIFF", 0, "ascii");
  out.writeUInt32LE(36 + n * 2, 4);
  out.write("WAVEfmt ", 8, "ascii");
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36, "ascii");
  out.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++)
    out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRate)), 44 + i * 2);
  return out;
}
