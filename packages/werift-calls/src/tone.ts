/** 8 kHz G.711 μ-law (PCMU): 20 ms = 160 samples = 160 bytes per RTP packet. */
const PCMU_SAMPLE_RATE = 8000;
export const PCMU_FRAME_SAMPLES = 160;

const BIAS = 0x84;
const CLIP = 32635;

/** Encodes one 16-bit linear sample as a μ-law byte (ITU-T G.711). */
export function linearToMulaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Decodes a μ-law byte to a 16-bit linear sample (for tests of the encoder). */
export function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  return sign ? -magnitude : magnitude;
}

/** A sine tone, 20 ms at a time, as PCMU payloads. */
export class ToneSource {
  readonly #step: number;
  readonly #amplitude: number;
  #phase = 0;

  constructor(frequencyHz = 440, amplitude = 8000) {
    this.#step = (2 * Math.PI * frequencyHz) / PCMU_SAMPLE_RATE;
    this.#amplitude = amplitude;
  }

  /** The next 20 ms frame (160 μ-law bytes); silence when muted, keeping the timing. */
  nextFrame(muted = false): Buffer {
    const frame = Buffer.alloc(PCMU_FRAME_SAMPLES);
    for (let i = 0; i < PCMU_FRAME_SAMPLES; i++) {
      frame[i] = linearToMulaw(muted ? 0 : this.#amplitude * Math.sin(this.#phase));
      this.#phase = (this.#phase + this.#step) % (2 * Math.PI);
    }
    return frame;
  }
}
