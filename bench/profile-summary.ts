// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `bench/load.ts --server-cpu-prof DIR`):
// the functions with the most self time, and self time per source file or category.
// Usage: node bench/profile-summary.ts FILE.cpuprofile [--top N] [--from S] [--to S]
// --from/--to keep only samples between S seconds after the profile started (load.ts reports the
// measurement window as server.windowSinceSpawnS, which is close: profiling starts as the process does).
import { readFileSync } from "node:fs";
import { relative } from "node:path";

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
};
type Profile = {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
};

/** Self time per profile node id, in microseconds, from the sample deltas, within [fromUs, toUs). */
function selfTimes(profile: Profile, fromUs: number, toUs: number): Map<number, number> {
  const out = new Map<number, number>();
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // Each delta is the time since the previous sample; attribute it to the later sample's node.
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < fromUs || at >= toUs) continue;
    const id = profile.samples[i]!;
    out.set(id, (out.get(id) ?? 0) + delta);
  }
  return out;
}

function where(url: string): string {
  if (url === "") return "(native / V8)";
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0)
    return path
      .slice(nm + "node_modules/".length)
      .split("/")
      .slice(0, 2)
      .join("/");
  if (url.startsWith("node:")) return url;
  return relative(process.cwd(), path);
}

/** Prints the summary of one profile to stdout. */
export function summarise(file: string, top: number, fromS: number, toS: number): void {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = selfTimes(profile, fromS * 1e6, toS * 1e6);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  let idle = 0;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const f = node.callFrame;
    if (f.functionName === "(idle)") idle += us;
    const name = `${f.functionName || "(anonymous)"} ${where(f.url)}${f.url ? `:${f.lineNumber + 1}` : ""}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const file = f.url ? where(f.url) : f.functionName || "(native)";
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
  const print = (title: string, m: Map<string, number>): void => {
    process.stdout.write(`${title}\n`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      process.stdout.write(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
  };
  process.stdout.write(
    `${file}: ${(total / 1e6).toFixed(1)} s sampled, of which ${(idle / 1e6).toFixed(1)} s idle (main thread busy ${(((total - idle) / total) * 100).toFixed(1)} %)\n`,
  );
  print("self time by function:", byFunction);
  print("self time by file / category:", byFile);
}

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  const v = at >= 0 ? Number(args[at + 1]) : Number.NaN;
  return Number.isFinite(v) ? v : fallback;
};
const file = args.find((a, i) => !a.startsWith("--") && !(args[i - 1] ?? "").startsWith("--"));
if (!file) {
  process.stderr.write(
    "usage: node bench/profile-summary.ts FILE.cpuprofile [--top N] [--from S] [--to S]\n",
  );
  process.exit(2);
}
summarise(file, flag("--top", 25), flag("--from", 0), flag("--to", Number.POSITIVE_INFINITY));
