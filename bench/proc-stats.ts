import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second for /proc CPU times; 100 on every Linux we run on, but ask to be sure. */
export const CLOCK_TICKS: number = (() => {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8", timeout: 2000 }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process in clock ticks, or undefined once it is gone. */
export function readCpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces, so count fields from after its closing ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in kB (VmRSS), or undefined once it is gone. */
export function readRssKb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * utime + stime of every process (kernel threads included), by pid. Used instead of /proc/stat's
 * machine totals, which in this VM are tick-sampled and disagree with per-process accounting under
 * bursty load (they even came out below the server's own CPU time).
 */
export function readAllCpuTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const ticks = readCpuTicks(pid);
    if (ticks !== undefined) out.set(pid, ticks);
  }
  return out;
}

/**
 * CPU ticks used between two readAllCpuTicks() snapshots by processes other than `exclude`, in total
 * and for the busiest few. Processes started in between count from zero; those that exited are missed,
 * so the total is a lower bound.
 */
export function otherTicks(
  before: Map<number, number>,
  after: Map<number, number>,
  exclude: number[],
): { total: number; top: { pid: number; name: string; ticks: number }[] } {
  let total = 0;
  const used: { pid: number; ticks: number }[] = [];
  for (const [pid, ticks] of after) {
    if (exclude.includes(pid)) continue;
    const d = Math.max(0, ticks - (before.get(pid) ?? 0));
    total += d;
    if (d > 0) used.push({ pid, ticks: d });
  }
  used.sort((a, b) => b.ticks - a.ticks);
  const top = used.slice(0, 4).map((u) => ({ ...u, name: processName(u.pid) }));
  return { total, top };
}

function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}
