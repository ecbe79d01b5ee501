// Seeds a Sori data directory for ../shared/bench: users <prefix>0..N-1 (password `pw` unless told),
// each with one device and session, and optionally the 1:1 group of every pair, then writes the
// accounts file the adapter reads (user → token). Run before starting the server on that directory.
//   node bench/peer-bench/seed.ts --data DIR --count 1000 [--pairs] [--prefix u] [--accounts FILE]
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SqliteStore } from "@sori/server";
import { seedAccounts } from "../seed.ts";
import { pairGroupId } from "./pair-group.mjs";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    count: { type: "string", default: "1000" },
    prefix: { type: "string", default: "u" },
    password: { type: "string", default: "pw" },
    pairs: { type: "boolean", default: false },
    accounts: { type: "string" },
  },
});
if (!values.data) throw new Error("--data DIR is required");
const count = Number(values.count);
if (!Number.isInteger(count) || count < 2 || count > 100_000) throw new Error("--count must be 2..100000");
const dataDir = values.data;
const t0 = performance.now();
const accounts = await seedAccounts(dataDir, count, values.prefix, values.password);
let groups = 0;
if (values.pairs) {
  // Every pair gets its group (epoch 1, no Welcome: load clients do no MLS), n·(n−1)/2 of them.
  const store = new SqliteStore({ dataDir, durability: "normal" });
  try {
    for (let i = 0; i < count; i++) {
      const writes: Promise<unknown>[] = [];
      for (let j = i + 1; j < count; j++) {
        writes.push(
          store.createGroup(
            pairGroupId(i, j),
            1,
            { deviceId: accounts[i]!.deviceId, userId: accounts[i]!.userId },
            [accounts[j]!.deviceId],
            undefined,
          ),
        );
      }
      await Promise.all(writes);
      groups += writes.length;
    }
  } finally {
    await store.close();
  }
}
const file = values.accounts ?? join(dataDir, "peer-bench-accounts.json");
writeFileSync(
  file,
  JSON.stringify(
    Object.fromEntries(accounts.map((a) => [a.username, { token: a.token, deviceId: a.deviceId }])),
  ),
);
process.stdout.write(
  `${JSON.stringify({ users: count, groups, accounts: file, seconds: Math.round((performance.now() - t0) / 100) / 10 })}\n`,
);
