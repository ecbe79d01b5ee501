import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Counter,
  emptySnapshot,
  Gauge,
  Histogram,
  observeInto,
  renderMetrics,
  SnapshotHistogram,
} from "./metrics.ts";

describe("Prometheus text rendering", () => {
  it("renders counters per label (escaped), gauges, NaN and cumulative histogram buckets", () => {
    const c = new Counter("x_total", "things", "code");
    c.inc(1, 'a"b\\c');
    c.inc(2, 'a"b\\c');
    const h = new Histogram("d_seconds", "durations", [0.1, 1], "type");
    h.observe(0.05, "send");
    h.observe(0.5, "send");
    h.observe(5, "send");
    const text = renderMetrics([c, new Gauge("g", "a gauge", () => Number.NaN), h]);
    assert.equal(
      text,
      [
        "# HELP x_total things",
        "# TYPE x_total counter",
        'x_total{code="a\\"b\\\\c"} 3',
        "# HELP g a gauge",
        "# TYPE g gauge",
        "g NaN",
        "# HELP d_seconds durations",
        "# TYPE d_seconds histogram",
        'd_seconds_bucket{type="send",le="0.1"} 1',
        'd_seconds_bucket{type="send",le="1"} 2',
        'd_seconds_bucket{type="send",le="+Inf"} 3',
        'd_seconds_sum{type="send"} 5.55',
        'd_seconds_count{type="send"} 3',
        "",
      ].join("\n"),
    );
  });

  it("renders a snapshot taken elsewhere, and a counter without labels as 0 before any event", () => {
    const snap = emptySnapshot([0.01]);
    observeInto(snap, 0.001);
    observeInto(snap, 0.02);
    const text = renderMetrics([
      new SnapshotHistogram("c_seconds", "commits", () => snap),
      new Counter("n_total", "n"),
    ]);
    assert.match(text, /^c_seconds_bucket\{le="0\.01"\} 1$/m);
    assert.match(text, /^c_seconds_bucket\{le="\+Inf"\} 2$/m);
    assert.match(text, /^c_seconds_count 2$/m);
    assert.match(text, /^n_total 0$/m);
  });
});
