// Copies the WAL back into the database file on a thread of its own (see engine.ts, the checkpointMs
// option): SQLite's automatic checkpoint runs inside a writer's COMMIT, and with its fsyncs it held
// up every message of that batch. A PASSIVE checkpoint never blocks the writer; it copies the
// frames committed before it began, syncing the WAL before and the database file after.
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new DatabaseSync(path);
db.exec("PRAGMA busy_timeout = 1000");
// The checkpointing connection's setting decides whether the database file is synced before the
// WAL frames count as copied (and may be overwritten): never leave that to a build default.
db.exec("PRAGMA synchronous = FULL");
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // Busy or failing: the writer's own automatic checkpoint (at a larger WAL) is the fallback.
  }
}, intervalMs);
parentPort!.on("message", (m: string) => {
  if (m !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort!.postMessage("stopped");
});
