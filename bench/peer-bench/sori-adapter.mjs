// Sori adapter for ../shared/bench (peer-bench): same contract as its adapters/ws-json.mjs.
// Users and their 1:1 groups are seeded out of band (bench/peer-bench/seed.ts --pairs), so this adapter
// has no register(): connect() authenticates the seeded device with its session token and send() posts
// the payload as the opaque ciphertext of a `send` into the pair's group. The server relays bytes and
// never decrypts, so no MLS happens here (the SDK's crypto cost is measured on its own).
//   --adapter bench/peer-bench/sori-adapter.mjs --opt url=ws://127.0.0.1:PORT/api/v1/ws --opt accounts=FILE
/* global setTimeout, clearTimeout */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import WebSocket from "ws";
import { pairGroupId, userIndex } from "./pair-group.mjs";

export const name = "sori";
export const defaults = {
  url: "ws://127.0.0.1:8080/api/v1/ws",
  /** JSON written by seed.ts: { "<user>": { token, deviceId } } */
  accounts: "",
  /** Comma-separated local addresses to spread connections over (127.0.0.2,…) when ports run short. */
  localAddresses: "",
  timeoutMs: 20000,
  /** Deliveries are acknowledged every ackEvery messages or ackAfterMs, like the SDK does. */
  ackEvery: 32,
  ackAfterMs: 20,
};

/** How the server begins every `result` frame (JSON.stringify of {type, re, result}). */
const RESULT_PREFIX = '{"type":"result",';

let accounts;
let opened = 0;
/** The time part of message ids, remade once per millisecond for all connections. */
let idMs = 0;
let idTime = "";

function account(opts, user) {
  accounts ??= JSON.parse(readFileSync(opts.accounts, "utf8"));
  const a = accounts[user];
  if (!a) throw new Error(`no seeded account "${user}" in ${opts.accounts}`);
  return a;
}

function open(opts) {
  const locals = String(opts.localAddresses || "")
    .split(",")
    .filter(Boolean);
  const localAddress = locals.length > 0 ? locals[opened++ % locals.length] : undefined;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(opts.url, {
      perMessageDeflate: false,
      ...(localAddress ? { localAddress } : {}),
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("open timeout"));
    }, Number(opts.timeoutMs));
    ws.once("open", () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function connect(opts, { user }, handlers) {
  const me = userIndex(user);
  const { token } = account(opts, user);
  const ws = await open(opts);
  let authResult;
  try {
    authResult = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("auth timeout")), Number(opts.timeoutMs));
      ws.once("message", (data) => {
        clearTimeout(timer);
        const f = JSON.parse(data.toString());
        if (f.type === "result" && f.re === 1) resolve(f.result);
        else reject(new Error(`auth failed: ${data.toString().slice(0, 200)}`));
      });
      // Protocol version 2 (packages/protocol/src/version.ts); this adapter is plain JavaScript for the harness.
      ws.send(JSON.stringify({ type: "auth", id: 1, v: 2, token }));
    });
  } catch (e) {
    ws.terminate();
    throw e;
  }
  let nextId = 2;
  const unansweredAcks = (authResult?.featureLevel ?? 0) >= 3;
  let closing = false;
  let lastSeq = 0;
  let unacked = 0;
  let ackTimer;
  const idPrefix = randomBytes(9).toString("base64url");
  let counter = 0;
  const flushAck = () => {
    clearTimeout(ackTimer);
    ackTimer = undefined;
    if (unacked === 0 || ws.readyState !== WebSocket.OPEN) return;
    unacked = 0;
    // Like the SDK: unanswered acks where the server allows them (feature level 3).
    ws.send(
      unansweredAcks
        ? `{"type":"ack","upTo":${lastSeq}}`
        : `{"type":"ack","id":${nextId++},"upTo":${lastSeq}}`,
    );
  };
  ws.on("message", (data) => {
    const text = data.toString();
    // Half of what arrives is the result of our own sends, which the driver does not look at: like
    // the XMPP adapter's string scan, skip those without parsing them (an error still is parsed).
    if (text.startsWith(RESULT_PREFIX)) return;
    const f = JSON.parse(text);
    if (f.type === "deliver") {
      if (f.kind === "message" && f.data)
        handlers.onMessage(Buffer.from(f.data, "base64").toString("latin1"));
      if (f.seq > lastSeq) lastSeq = f.seq;
      if (++unacked >= Number(opts.ackEvery)) flushAck();
      else ackTimer ??= setTimeout(flushAck, Number(opts.ackAfterMs));
    } else if (f.type === "error") {
      handlers.onError("server-error", data.toString().slice(0, 300));
    }
  });
  ws.on("error", (e) => {
    if (!closing) handlers.onError("socket", e.message);
  });
  ws.on("close", () => {
    clearTimeout(ackTimer);
    handlers.onClose?.();
  });
  return {
    send(toUser, payload) {
      // Shaped like the SDK's ids (packages/sdk/src/message-id.ts): the time first, so that ids made
      // later sort later and the server's duplicate check appends to its index, as it does for apps.
      const now = Date.now();
      if (now !== idMs) {
        idMs = now;
        idTime = now.toString(16).padStart(12, "0");
      }
      const messageId = idTime + idPrefix + String(counter++).padStart(10, "0");
      ws.send(
        JSON.stringify({
          type: "send",
          id: nextId++,
          groupId: pairGroupId(me, userIndex(toUser)),
          epoch: 1,
          messageId,
          data: Buffer.from(payload, "latin1").toString("base64"),
        }),
      );
    },
    close() {
      closing = true;
      // Ack what arrived, so a restarted run does not get this run's last deliveries pushed again.
      flushAck();
      ws.close();
      setTimeout(() => ws.terminate(), 2000).unref();
    },
  };
}
