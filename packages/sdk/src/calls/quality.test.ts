import assert from "node:assert/strict";
import { test } from "node:test";
import { rateQuality, summarizeStats } from "./quality.ts";

test("quality is good, fair or poor from RTT, loss and jitter", () => {
  assert.equal(rateQuality({ rttS: null, loss: null, jitterS: null }), "unknown");
  assert.equal(rateQuality({ rttS: 0.05, loss: 0, jitterS: 0.005 }), "good");
  assert.equal(rateQuality({ rttS: 0.4, loss: 0, jitterS: 0.005 }), "fair");
  assert.equal(rateQuality({ rttS: 0.05, loss: 0.05, jitterS: 0.005 }), "fair");
  assert.equal(rateQuality({ rttS: 0.05, loss: 0.2, jitterS: 0.005 }), "poor");
  assert.equal(rateQuality({ rttS: 0.05, loss: 0, jitterS: 0.2 }), "poor");
});

test("a stats report is summarised into packets, loss and quality", () => {
  const report = new Map<string, Record<string, unknown>>([
    ["p", { type: "candidate-pair", state: "succeeded", nominated: true, currentRoundTripTime: 0.02 }],
    [
      "i",
      {
        type: "inbound-rtp",
        kind: "audio",
        packetsReceived: 90,
        packetsLost: 10,
        jitter: 0.01,
        bytesReceived: 900,
      },
    ],
    ["o", { type: "outbound-rtp", kind: "audio", packetsSent: 100, bytesSent: 1000 }],
  ]);
  const s = summarizeStats(report);
  assert.equal(s.rttS, 0.02);
  assert.equal(s.loss, 0.1);
  assert.equal(s.packetsReceived, 90);
  assert.equal(s.packetsSent, 100);
  assert.equal(s.quality, "poor");
});
