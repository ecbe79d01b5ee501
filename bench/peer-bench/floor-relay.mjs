// The floor of this machine for Sori's wire protocol: a Node.js relay (ws, JSON) that speaks exactly
// the frames the harness's Sori adapter exchanges (auth → result; send → result to the sender +
// deliver to the partner; unanswered ack) and does nothing else: no storage, no validation, no token
// check, no delivery window. What the harness measures against it is the least a Node.js server with
// ws and JSON needs for this protocol on this machine; what Sori uses above it is the price of its
// guarantees.
//   node bench/peer-bench/floor-relay.mjs ACCOUNTS_JSON [PORT] [TTL_S]
//   then the harness with --adapter bench/peer-bench/sori-adapter.mjs --opt url=ws://127.0.0.1:PORT/
//     --opt accounts=ACCOUNTS_JSON --server-pid PID   (docs/BENCHMARKS.md, "the floor")
// Listens on 127.0.0.1 only and exits by itself after TTL_S seconds (default 600).
/* global setTimeout */
import { readFileSync } from "node:fs";
import { WebSocketServer } from "ws";
import { userIndex } from "./pair-group.mjs";

const [accountsFile, portArg = "8098", ttlArg = "600"] = process.argv.slice(2);
if (!accountsFile) {
  console.error("usage: floor-relay.mjs ACCOUNTS_JSON [PORT] [TTL_S]");
  process.exit(2);
}
/** token → the seeded user it signs in, as written by seed.ts: { "<user>": { token, deviceId } } */
const byToken = new Map(
  Object.entries(JSON.parse(readFileSync(accountsFile, "utf8"))).map(([user, a]) => [
    a.token,
    { user, index: userIndex(user), deviceId: a.deviceId },
  ]),
);
/** user index → its socket */
const online = new Map();
let seq = 0;

const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(portArg), perMessageDeflate: false });
wss.on("connection", (ws) => {
  let me;
  ws.on("message", (data) => {
    const f = JSON.parse(data.toString());
    if (f.type === "auth") {
      me = byToken.get(f.token);
      if (!me) return ws.close(4001, "unknown token");
      online.set(me.index, ws);
      ws.send(JSON.stringify({ type: "result", re: f.id, result: { featureLevel: 3 } }));
    } else if (f.type === "send" && me) {
      const sentAt = Date.now();
      ws.send(
        JSON.stringify({
          type: "result",
          re: f.id,
          result: { messageId: f.messageId, sentAt, duplicate: false },
        }),
      );
      // Pair groups are named pair_<lo>_<hi> (pair-group.mjs): the partner is the other index.
      const [, lo, hi] = f.groupId.split("_").map(Number);
      online.get(lo === me.index ? hi : lo)?.send(
        JSON.stringify({
          type: "deliver",
          seq: ++seq,
          kind: "message",
          messageId: f.messageId,
          from: { userId: me.user, deviceId: me.deviceId },
          sentAt,
          groupId: f.groupId,
          epoch: f.epoch,
          data: f.data,
        }),
      );
    }
    // Acks need nothing here: nothing is stored.
  });
  ws.on("close", () => {
    if (me && online.get(me.index) === ws) online.delete(me.index);
  });
  ws.on("error", () => ws.terminate());
});
wss.on("listening", () => console.log(`floor relay on ws://127.0.0.1:${portArg}/`));
setTimeout(() => process.exit(0), Number(ttlArg) * 1000).unref();
