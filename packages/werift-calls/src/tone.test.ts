import assert from "node:assert/strict";
import { test } from "node:test";
import { linearToMulaw, mulawToLinear, PCMU_FRAME_SAMPLES, ToneSource } from "./tone.ts";

test("μ-law round-trips within G.711's quantisation error", () => {
  for (const x of [0, 1, -1, 100, -100, 1000, -5000, 12345, -32000, 32767]) {
    const back = mulawToLinear(linearToMulaw(x));
    assert.ok(Math.abs(back - x) <= Math.max(8, Math.abs(x) * 0.07), `${x} came back as ${back}`);
  }
  assert.equal(linearToMulaw(0), 0xff);
});

test("the tone gives 160-byte frames that carry a signal, and silence when muted", () => {
  const tone = new ToneSource(440);
  const frame = tone.nextFrame();
  assert.equal(frame.length, PCMU_FRAME_SAMPLES);
  const energy = [...frame].reduce((sum, b) => sum + Math.abs(mulawToLinear(b)), 0);
  assert.ok(energy / PCMU_FRAME_SAMPLES > 2000);
  assert.ok([...tone.nextFrame(true)].every((b) => Math.abs(mulawToLinear(b)) < 8));
});
