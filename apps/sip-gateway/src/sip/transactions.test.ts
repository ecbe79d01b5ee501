import assert from "node:assert/strict";
import { test } from "node:test";
import type { SipSource } from "./sip-format.ts";
import { parseSip, type SipRequest, type SipResponse } from "./sip-message.ts";
import {
  ClientTransactions,
  newBranch,
  ServerTransactions,
  SipTimeoutError,
  type TransactionIo,
} from "./transactions.ts";

const PHONE: SipSource = { address: "127.0.0.1", port: 5070, transport: "UDP" };

/** Timers that run only when the test moves the clock. */
function fakeIo(): TransactionIo & { sent: string[]; advance(ms: number): void } {
  let now = 0;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  const sent: string[] = [];
  return {
    sent,
    send: (text) => sent.push(text),
    setTimer: (fn, ms) => {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return () => {
        t.live = false;
      };
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const next = timers.filter((t) => t.live && t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        now = next.at;
        next.live = false;
        next.fn();
      }
      now = until;
    },
  };
}

function request(method: string, extra = "", branch = "z9hG4bKt1", cseq = 1): SipRequest {
  const m = parseSip(
    `${method} sip:alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=${branch}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:phone@127.0.0.1>;tag=p1\r\nTo: <sip:alice@127.0.0.1>${extra}\r\n` +
      `Call-ID: call-1\r\nCSeq: ${cseq} ${method}\r\nContent-Length: 0\r\n\r\n`,
  );
  assert.equal(m.type, "request");
  return m as SipRequest;
}

test("a retransmitted request gets the last response again, not a second transaction", () => {
  const io = fakeIo();
  const server = new ServerTransactions(io);
  const first = server.receive(request("OPTIONS"), PHONE);
  assert.equal(first.kind, "new");
  if (first.kind !== "new") return;
  first.tx.respond(200);
  assert.equal(server.receive(request("OPTIONS"), PHONE).kind, "absorbed");
  assert.equal(io.sent.length, 2);
  assert.equal(io.sent[1], io.sent[0]);
  // Timer J (64·T1) over: the same branch is a new request again.
  io.advance(32_001);
  assert.equal(server.receive(request("OPTIONS"), PHONE).kind, "new");
});

test("a 2xx to an INVITE is repeated (T1, 2·T1, … capped at T2) until the ACK, then stops", () => {
  const io = fakeIo();
  const server = new ServerTransactions(io);
  const arrival = server.receive(request("INVITE"), PHONE);
  if (arrival.kind !== "new") throw new Error("expected a new transaction");
  arrival.tx.respond(200, { toTag: "g1" });
  io.advance(500 + 1000 + 2000 + 4000 + 4000);
  assert.equal(io.sent.length, 6, "the answer and five repeats");
  assert.match(io.sent[5] ?? "", /^SIP\/2.0 200 OK[\s\S]*To: <sip:alice@127.0.0.1>;tag=g1/);
  const ackRequest = request("ACK", ";tag=g1", "z9hG4bKack", 1);
  const ack = server.receive(ackRequest, PHONE);
  // The ACK itself, for the answer it may carry (an offer in the 200).
  assert.deepEqual(ack, { kind: "ack-2xx", request: ackRequest });
  io.advance(20_000);
  assert.equal(io.sent.length, 6, "nothing after the ACK");
  // A second final response is ignored: the first one stands.
  arrival.tx.respond(486);
  assert.equal(io.sent.length, 6);
});

test("a non-2xx final answer to an INVITE is repeated until its ACK, which the transaction absorbs", () => {
  const io = fakeIo();
  const server = new ServerTransactions(io);
  const arrival = server.receive(request("INVITE"), PHONE);
  if (arrival.kind !== "new") throw new Error("expected a new transaction");
  arrival.tx.respond(603, { toTag: "g2" });
  io.advance(1600);
  assert.equal(io.sent.length, 3);
  assert.equal(server.receive(request("ACK", ";tag=g2"), PHONE).kind, "ack-absorbed");
  io.advance(10_000);
  assert.equal(io.sent.length, 3);
  assert.equal(server.receive(request("ACK", ";tag=zz", "z9hG4bKother"), PHONE).kind, "ack-stray");
});

test("a request the gateway sends is repeated until answered, and fails after 64·T1 without one", async () => {
  const io = fakeIo();
  const client = new ClientTransactions(io);
  const branch = newBranch();
  const parts = {
    method: "BYE",
    uri: "sip:phone@127.0.0.1:5070",
    headers: [
      ["Via", `SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}`],
      ["From", "<sip:alice@127.0.0.1>;tag=g1"],
      ["To", "<sip:phone@127.0.0.1>;tag=p1"],
      ["Call-ID", "call-1"],
      ["CSeq", "2 BYE"],
    ] as [string, string][],
  };
  const answered = client.request(parts, branch, PHONE);
  io.advance(1600);
  assert.equal(io.sent.length, 3);
  const ok = parseSip(
    `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}\r\nFrom: <sip:alice@127.0.0.1>;tag=g1\r\n` +
      `To: <sip:phone@127.0.0.1>;tag=p1\r\nCall-ID: call-1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n`,
  ) as SipResponse;
  assert.equal(client.receive(ok), true);
  assert.equal((await answered).status, 200);
  io.advance(10_000);
  assert.equal(io.sent.length, 3, "no repeats after the answer");
  const lost = client.request({ ...parts }, newBranch(), PHONE);
  io.advance(32_001);
  await assert.rejects(lost, SipTimeoutError);
});

const OVER_TCP: SipSource = { address: "127.0.0.1", port: 40_123, transport: "TCP" };

test("over TCP nothing is repeated: a 2xx to an INVITE waits for its ACK without repeats, a non-INVITE transaction ends at once", () => {
  const io = fakeIo();
  const server = new ServerTransactions(io);
  const invite = server.receive(request("INVITE"), OVER_TCP);
  if (invite.kind !== "new") throw new Error("expected a new transaction");
  invite.tx.respond(200, { toTag: "g1" });
  io.advance(20_000);
  assert.equal(io.sent.length, 1, "the answer once, no timer G");
  assert.equal(server.receive(request("ACK", ";tag=g1", "z9hG4bKack", 1), OVER_TCP).kind, "ack-2xx");
  const options = server.receive(request("OPTIONS", "", "z9hG4bKo1"), OVER_TCP);
  if (options.kind !== "new") throw new Error("expected a new transaction");
  options.tx.respond(200);
  // Timer J is 0 on a stream: the same branch again is a new request.
  assert.equal(server.receive(request("OPTIONS", "", "z9hG4bKo1"), OVER_TCP).kind, "new");
});

test("a request the gateway sends over TCP is sent once, and still fails after 64·T1 (timer F)", async () => {
  const io = fakeIo();
  const client = new ClientTransactions(io);
  const branch = newBranch();
  const lost = client.request(
    {
      method: "BYE",
      uri: "sip:phone@127.0.0.1:5070;transport=tcp",
      headers: [
        ["Via", `SIP/2.0/TCP 127.0.0.1:5060;branch=${branch}`],
        ["From", "<sip:alice@127.0.0.1>;tag=g1"],
        ["To", "<sip:phone@127.0.0.1>;tag=p1"],
        ["Call-ID", "call-1"],
        ["CSeq", "2 BYE"],
      ],
    },
    branch,
    OVER_TCP,
  );
  io.advance(31_000);
  assert.equal(io.sent.length, 1, "no timer E");
  io.advance(1001);
  await assert.rejects(lost, SipTimeoutError);
});

test("a request over a connection that fails is rejected at once, others stay pending", async () => {
  const io = fakeIo();
  const client = new ClientTransactions(io);
  const parts = (branch: string): Parameters<ClientTransactions["request"]>[0] => ({
    method: "INVITE",
    uri: "sip:phone@127.0.0.1:5070;transport=tcp",
    headers: [["Via", `SIP/2.0/TCP 127.0.0.1:5060;branch=${branch}`]],
  });
  const doomed = client.request(parts("z9hG4bKa"), "z9hG4bKa", OVER_TCP);
  const elsewhere = client.request(parts("z9hG4bKb"), "z9hG4bKb", { ...OVER_TCP, port: 40_124 });
  client.transportFailed(OVER_TCP);
  await assert.rejects(doomed, { code: "sip-transport-failed" });
  client.transportFailed(PHONE);
  io.advance(32_001);
  await assert.rejects(elsewhere, SipTimeoutError);
});
