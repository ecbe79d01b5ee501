/**
 * A minimal Prometheus registry (text exposition format 0.0.4): counters, gauges and fixed-bucket
 * histograms, each optionally split by one label. No dependency; everything is in memory.
 */

type Labels = Record<string, string>;

const escapeLabel = (v: string): string =>
  v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const labelText = (labels: Labels): string => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
};
const num = (n: number): string =>
  Number.isFinite(n) ? String(n) : Number.isNaN(n) ? "NaN" : n > 0 ? "+Inf" : "-Inf";

abstract class Metric {
  readonly name: string;
  readonly help: string;
  abstract readonly type: "counter" | "gauge" | "histogram";
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  abstract samples(): string[];
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()].join(
      "\n",
    );
  }
}

/** A monotonically increasing count, per label value. */
export class Counter extends Metric {
  readonly type = "counter";
  readonly #label: string | undefined;
  readonly #values = new Map<string, number>();
  constructor(name: string, help: string, label?: string) {
    super(name, help);
    this.#label = label;
  }
  inc(by = 1, labelValue = ""): void {
    this.#values.set(labelValue, (this.#values.get(labelValue) ?? 0) + by);
  }
  samples(): string[] {
    if (this.#values.size === 0 && !this.#label) return [`${this.name} 0`];
    return [...this.#values].map(
      ([v, n]) => `${this.name}${this.#label ? labelText({ [this.#label]: v }) : ""} ${num(n)}`,
    );
  }
}

/** A value read when scraped. */
export class Gauge extends Metric {
  readonly type = "gauge";
  readonly #read: () => number;
  constructor(name: string, help: string, read: () => number) {
    super(name, help);
    this.#read = read;
  }
  samples(): string[] {
    return [`${this.name} ${num(this.#read())}`];
  }
}

/** A distribution over fixed upper bounds (seconds for durations), per label value. */
export class Histogram extends Metric {
  readonly type = "histogram";
  readonly #bounds: number[];
  readonly #label: string | undefined;
  readonly #series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(name: string, help: string, bounds: number[], label?: string) {
    super(name, help);
    this.#bounds = [...bounds].sort((a, b) => a - b);
    this.#label = label;
  }
  observe(value: number, labelValue = ""): void {
    let s = this.#series.get(labelValue);
    if (!s) {
      s = { counts: new Array<number>(this.#bounds.length).fill(0), sum: 0, count: 0 };
      this.#series.set(labelValue, s);
    }
    for (let i = 0; i < this.#bounds.length; i++) if (value <= this.#bounds[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  samples(): string[] {
    const out: string[] = [];
    for (const [v, s] of this.#series) {
      const base: Labels = this.#label ? { [this.#label]: v } : {};
      this.#bounds.forEach((b, i) =>
        out.push(`${this.name}_bucket${labelText({ ...base, le: num(b) })} ${s.counts[i]}`),
      );
      out.push(`${this.name}_bucket${labelText({ ...base, le: "+Inf" })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(base)} ${num(s.sum)}`);
      out.push(`${this.name}_count${labelText(base)} ${s.count}`);
    }
    return out;
  }
}

/** Durations from 0.5 ms to 10 s. */
export const LATENCY_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Renders metrics in order as one exposition. */
export function renderMetrics(metrics: { render(): string }[]): string {
  return `${metrics.map((m) => m.render()).join("\n")}\n`;
}

/** Cumulative bucket counts of a distribution measured elsewhere (e.g. on the store thread). */
export type HistogramSnapshot = { bounds: number[]; counts: number[]; sum: number; count: number };

/** Counts `value` into a snapshot in place: the cheap form for hot paths that only hand data over. */
export function observeInto(snapshot: HistogramSnapshot, value: number): void {
  for (let i = 0; i < snapshot.bounds.length; i++) if (value <= snapshot.bounds[i]!) snapshot.counts[i]!++;
  snapshot.sum += value;
  snapshot.count++;
}

export function emptySnapshot(bounds: number[]): HistogramSnapshot {
  return { bounds, counts: new Array<number>(bounds.length).fill(0), sum: 0, count: 0 };
}

/** A histogram rendered from a snapshot read when scraped. */
export class SnapshotHistogram extends Metric {
  readonly type = "histogram";
  readonly #read: () => HistogramSnapshot | undefined;
  constructor(name: string, help: string, read: () => HistogramSnapshot | undefined) {
    super(name, help);
    this.#read = read;
  }
  samples(): string[] {
    const s = this.#read();
    if (!s) return [];
    return [
      ...s.bounds.map((b, i) => `${this.name}_bucket${labelText({ le: num(b) })} ${s.counts[i]}`),
      `${this.name}_bucket{le="+Inf"} ${s.count}`,
      `${this.name}_sum ${num(s.sum)}`,
      `${this.name}_count ${s.count}`,
    ];
  }
}
