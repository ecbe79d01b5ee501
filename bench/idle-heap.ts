// Where an idle connection's memory goes: starts the server in this process on seeded accounts,
// connects N authenticated WebSockets from a child process, forces GCs and reports the retained V8
// heap per connection, plus the largest object kinds by count growth (heap snapshot diff).
//   node --expose-gc bench/idle-heap.ts [--connections 2000] [--store-thread on|off]
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";
import { createLogger, parseServerConfig, startServer } from "@sori/server";
import { seedAccounts } from "./seed.ts";
import { PROTOCOL_VERSION } from "@sori/protocol";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "2000" },
    "store-thread": { type: "string", default: "on" },
    child: { type: "string" },
  },
});

if (values.child) {
  // The client side: connect and authenticate every token, then wait to be killed.
  const { WebSocket } = await import("ws");
  // Over IPC: thousands of tokens do not fit in a command line (E2BIG).
  const { url, tokens } = await new Promise<{ url: string; tokens: string[] }>((resolve) =>
    process.once("message", (m) => resolve(m as { url: string; tokens: string[] })),
  );
  const sockets: InstanceType<typeof WebSocket>[] = [];
  for (let i = 0; i < tokens.length; i += 50) {
    await Promise.all(
      tokens.slice(i, i + 50).map(
        (token) =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(url, { perMessageDeflate: false });
            ws.once("open", () =>
              ws.send(JSON.stringify({ type: "auth", id: 1, v: PROTOCOL_VERSION, token })),
            );
            ws.once("message", () => resolve());
            ws.once("error", reject);
            sockets.push(ws);
          }),
      ),
    );
  }
  process.send!("connected");
  setInterval(() => undefined, 60_000);
} else {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  const n = Number(values.connections);
  const dataDir = mkdtempSync(join(tmpdir(), "sori-idle-heap-"));
  const accounts = await seedAccounts(dataDir, n, "idle", "pw");
  const config = parseServerConfig(
    ["--port", "0", "--data", dataDir, "--log-level", "error", "--store-thread", values["store-thread"]!],
    {},
  );
  const server = await startServer(config, createLogger("error"));
  const settle = async (): Promise<number> => {
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 100));
    }
    return process.memoryUsage().heapUsed;
  };
  /** Self size and count of every object kind in a heap snapshot. */
  const kinds = (): Map<string, { count: number; size: number }> => {
    const file = writeHeapSnapshot(join(dataDir, `heap-${Date.now()}.heapsnapshot`));
    const snap = JSON.parse(readFileSync(file, "utf8")) as {
      snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
      nodes: number[];
      strings: string[];
    };
    const fields = snap.snapshot.meta.node_fields;
    const step = fields.length;
    const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [
      number,
      number,
      number,
    ];
    const types = snap.snapshot.meta.node_types[0];
    const out = new Map<string, { count: number; size: number }>();
    for (let i = 0; i < snap.nodes.length; i += step) {
      const type = types[snap.nodes[i + typeAt]!]!;
      const name =
        type === "object" || type === "closure" ? snap.strings[snap.nodes[i + nameAt]!]! : `(${type})`;
      const k = out.get(name) ?? { count: 0, size: 0 };
      k.count++;
      k.size += snap.nodes[i + sizeAt]!;
      out.set(name, k);
    }
    rmSync(file);
    return out;
  };
  const before = await settle();
  const kinds0 = kinds();
  const mem0 = process.memoryUsage();
  const rss0 = mem0.rss;
  const child = fork(new URL(import.meta.url).pathname, ["--child", "1"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  child.send({ url: `${server.url.replace("http", "ws")}/api/v1/ws`, tokens: accounts.map((a) => a.token) });
  await new Promise<void>((resolve) => child.once("message", () => resolve()));
  await new Promise((r) => setTimeout(r, 1000));
  // As the peer harness sees it (no forced GC), then after GC: where RSS beyond the retained heap goes.
  const mem = (m: NodeJS.MemoryUsage): Record<string, number> =>
    Object.fromEntries(
      (["rss", "heapTotal", "heapUsed", "external", "arrayBuffers"] as const).map((k) => [
        k,
        Math.round((m[k] - mem0[k]) / n),
      ]),
    );
  const beforeGc = mem(process.memoryUsage());
  const spaces = (): Record<string, string> =>
    Object.fromEntries(
      getHeapSpaceStatistics().map((sp) => [
        sp.space_name,
        `${(sp.space_size / 1048576).toFixed(1)} MB (used ${(sp.space_used_size / 1048576).toFixed(1)})`,
      ]),
    );
  const spacesBeforeGc = spaces();
  const after = await settle();
  const afterGc = mem(process.memoryUsage());
  const spacesAfterGc = spaces();
  const rss1 = process.memoryUsage().rss;
  const kinds1 = kinds();
  const growth = [...kinds1]
    .map(([name, k]) => ({
      name,
      bytesPerConnection: (k.size - (kinds0.get(name)?.size ?? 0)) / n,
      countPerConnection: (k.count - (kinds0.get(name)?.count ?? 0)) / n,
    }))
    .filter((g) => g.bytesPerConnection > 40)
    .sort((a, b) => b.bytesPerConnection - a.bytesPerConnection)
    .slice(0, 25)
    .map(
      (g) =>
        `${g.name.slice(0, 40)}: ${Math.round(g.bytesPerConnection)} B (${g.countPerConnection.toFixed(1)} objects)`,
    );
  process.stdout.write(
    `${JSON.stringify(
      {
        connections: n,
        storeThread: values["store-thread"],
        heapPerConnectionBytes: Math.round((after - before) / n),
        rssPerConnectionBytes: Math.round((rss1 - rss0) / n),
        perConnectionBytesBeforeGc: beforeGc,
        perConnectionBytesAfterGc: afterGc,
        heapSpacesBeforeGc: spacesBeforeGc,
        heapSpacesAfterGc: spacesAfterGc,
        largestPerConnection: growth,
      },
      null,
      1,
    )}\n`,
  );
  child.kill();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
