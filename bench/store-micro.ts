// Store-only A/B benchmark: the SqliteStore of a checkout (default this one) accepting and acking
// messages in 1:1 groups, in this process, no sockets. Reports µs of store-thread time per message
// (send + ack), so two checkouts can be compared back to back on a busy machine:
//   node bench/store-micro.ts [--root DIR] [--messages 40000] [--durability full|normal]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const { values } = parseArgs({
  options: {
    root: { type: "string", default: resolve(import.meta.dirname, "..") },
    messages: { type: "string", default: "40000" },
    durability: { type: "string", default: "full" },
    users: { type: "string", default: "1000" },
  },
});
type AnyStore = {
  createUserWithDevice(...a: unknown[]): Promise<unknown>;
  createGroup(...a: unknown[]): Promise<unknown>;
  acceptMessage(m: unknown): Promise<{ status: string; enqueued?: { delivery: { seq: number } }[] }>;
  ack(deviceId: string, upTo: number): Promise<number>;
  close(): Promise<void>;
};
const mod = (await import(
  pathToFileURL(join(values.root, "apps/server/src/store/sqlite-store.ts")).href
)) as {
  SqliteStore: new (o: { dataDir: string; durability: string }) => AnyStore;
};
const dir = mkdtempSync(join(tmpdir(), "sori-store-micro-"));
const store = new mod.SqliteStore({ dataDir: dir, durability: values.durability });
const users = Number(values.users);
const id = (p: string, i: number): string => `${p}${String(i).padStart(20, "0")}`;
await Promise.all(
  Array.from({ length: users }, (_, i) =>
    store.createUserWithDevice(
      { userId: id("u", i), username: `u${i}`, passwordHash: "x", createdAt: 1 },
      { deviceId: id("d", i), userId: id("u", i), name: "d", signatureKey: new Uint8Array(32), createdAt: 1 },
      { tokenHash: `t${i}`, deviceId: id("d", i), createdAt: 1, expiresAt: 9e15 },
    ),
  ),
);
const groups: [number, number][] = [];
for (let i = 0; i < users; i++)
  for (let k = 0; k < 4; k++) {
    const j = (i + 1 + Math.floor(Math.random() * (users - 1))) % users;
    groups.push([i, j]);
  }
await Promise.all(
  groups.map(([i, j], g) =>
    store.createGroup(id("g", g), 1, { deviceId: id("d", i), userId: id("u", i) }, [id("d", j)], undefined),
  ),
);
const total = Number(values.messages);
const data = new Uint8Array(64);
const batch = 200;
const t0 = process.cpuUsage();
const w0 = performance.now();
for (let n = 0; n < total; n += batch) {
  const sends = [];
  for (let k = 0; k < batch; k++) {
    const g = Math.floor(Math.random() * groups.length);
    const [i, j] = Math.random() < 0.5 ? groups[g]! : [groups[g]![1], groups[g]![0]];
    sends.push(
      store
        .acceptMessage({
          kind: "message",
          groupId: id("g", g),
          messageId: id("m", n + k),
          senderUserId: id("u", i),
          senderDeviceId: id("d", i),
          epoch: 1,
          data,
          sentAt: 1,
        })
        .then((r) => ({ r, to: j })),
    );
  }
  const results = await Promise.all(sends);
  await Promise.all(results.map(({ r, to }) => store.ack(id("d", to), r.enqueued?.[0]?.delivery.seq ?? 0)));
}
const cpu = process.cpuUsage(t0);
const wall = performance.now() - w0;
await store.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ root: values.root, messages: total, durability: values.durability, cpuUsPerMessage: Math.round(((cpu.user + cpu.system) / total) * 10) / 10, wallUsPerMessage: Math.round(((wall * 1000) / total) * 10) / 10 })}\n`,
);
