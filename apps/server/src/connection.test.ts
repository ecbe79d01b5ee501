import assert from "node:assert/strict";
import { afterEach, describe, it, mock } from "node:test";
import { DEFAULT_LIMITS, PROTOCOL_VERSION, ProtocolError } from "@sori/protocol";
import { Connection, type ConnectionHooks, type ConnectionService, type FrameSocket } from "./connection.ts";
import type { Logger } from "./logger.ts";
import type { Caller } from "./sessions.ts";
import type { QueuedDelivery } from "./store/store.ts";
import { StoreError } from "./store/store-error.ts";

const TOKEN = "a-valid-session-token";
const CALLER: Caller = { userId: "user-a", deviceId: "device-a", username: "alice", approved: true };

type Frame = Record<string, unknown>;

/** The socket side of a connection: what it sent, how it was closed, how much it has buffered. */
class FakeSocket implements FrameSocket {
  readonly frames: Frame[] = [];
  closedWith: [number, string] | undefined;
  buffered = 0;
  send(text: string): void {
    this.frames.push(JSON.parse(text) as Frame);
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  /** The frames sent since the last call. */
  take(): Frame[] {
    return this.frames.splice(0);
  }
}

/** A device queue of `n` entries, seq 1..n, as the store would hand them out. */
class FakeQueue {
  entries: QueuedDelivery[];
  readonly acks: number[] = [];
  constructor(n: number) {
    this.entries = Array.from({ length: n }, (_, i) => delivery(i + 1));
  }
  pending(_deviceId: string, afterSeq: number, limit: number): Promise<QueuedDelivery[]> {
    return Promise.resolve(this.entries.filter((d) => d.seq > afterSeq).slice(0, limit));
  }
  ack(_deviceId: string, upTo: number): Promise<number> {
    this.acks.push(upTo);
    const before = this.entries.length;
    this.entries = this.entries.filter((d) => d.seq > upTo);
    return Promise.resolve(before - this.entries.length);
  }
}

function delivery(seq: number): QueuedDelivery {
  return {
    seq,
    kind: "message",
    groupId: "group-g",
    messageId: `message-${seq}`,
    senderUserId: "user-b",
    senderDeviceId: "device-b",
    epoch: 1,
    data: new Uint8Array([seq % 256]),
    sentAt: 1000 + seq,
  };
}

const silent = (): Logger & { events: string[] } => {
  const events: string[] = [];
  const log = (event: string): void => {
    events.push(event);
  };
  return { events, debug: log, info: log, warn: log, error: log };
};

/** Lets the connection's promise chains (auth, pump, acks) run to where they wait. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

const open: Connection[] = [];

function connect(
  options: {
    queue?: FakeQueue;
    service?: Partial<ConnectionService>;
    attach?: ConnectionHooks["attach"];
    window?: number;
    maxInFlight?: number;
    authTimeoutMs?: number;
  } = {},
): {
  conn: Connection;
  socket: FakeSocket;
  queue: FakeQueue;
  log: ReturnType<typeof silent>;
  detached: Connection[];
} {
  const socket = new FakeSocket();
  const queue = options.queue ?? new FakeQueue(0);
  const log = silent();
  const detached: Connection[] = [];
  const service: ConnectionService = {
    handle: () => Promise.resolve({ ok: true }),
    authResult: (caller) =>
      Promise.resolve({ ...caller, keyPackagesRemaining: 5, featureLevel: 3 } as Awaited<
        ReturnType<ConnectionService["authResult"]>
      >),
    ...options.service,
  };
  const conn = new Connection(
    socket,
    service,
    queue,
    {
      authenticate: (token) => Promise.resolve(token === TOKEN ? CALLER : undefined),
      attach: options.attach ?? (() => undefined),
      detach: (c) => detached.push(c),
    },
    log,
    {
      window: options.window ?? DEFAULT_LIMITS.deliveryWindow,
      maxFrameBytes: 1000,
      maxInFlight: options.maxInFlight ?? DEFAULT_LIMITS.requestsInFlight,
      authTimeoutMs: options.authTimeoutMs ?? 60_000,
      address: "192.0.2.1",
    },
  );
  open.push(conn);
  return { conn, socket, queue, log, detached };
}

const send = (conn: Connection, frame: object): Promise<void> => {
  const text = JSON.stringify(frame);
  return conn.receive(text, Buffer.byteLength(text));
};
const auth = (conn: Connection, token = TOKEN): Promise<void> =>
  send(conn, { type: "auth", id: "auth", v: PROTOCOL_VERSION, token });

/** Authenticates and lets the first push run; returns what was sent meanwhile (the auth result first). */
async function signIn(conn: Connection, socket: FakeSocket): Promise<Frame[]> {
  await auth(conn);
  await settle();
  return socket.take();
}

afterEach(() => {
  for (const conn of open.splice(0)) conn.closed();
  mock.timers.reset();
});

describe("Connection: authentication", { timeout: 5000 }, () => {
  it("closes a socket that does not authenticate in time", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    const { socket } = connect({ authTimeoutMs: 5000 });
    mock.timers.tick(4999);
    assert.equal(socket.closedWith, undefined);
    mock.timers.tick(1);
    assert.deepEqual(socket.closedWith, [4001, "authentication timeout"]);
  });

  it("keeps a socket that authenticated past the timeout", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    const { conn, socket } = connect({ authTimeoutMs: 5000 });
    await auth(conn);
    mock.timers.tick(10_000);
    assert.equal(socket.closedWith, undefined);
  });

  it("answers nothing but auth before it, then the auth result with the caller and its address", async () => {
    const { conn, socket } = connect();
    await send(conn, { type: "ping", id: 1 });
    conn.notify({ type: "kp.low", remaining: 1 });
    assert.deepEqual(socket.take(), [
      {
        type: "error",
        re: 1,
        code: "unauthenticated",
        message: "send an auth frame with a valid token first",
      },
    ]);
    await auth(conn, "a-wrong-session-token");
    assert.equal(socket.take()[0]!.code, "auth-failed");
    const [result, synced] = await signIn(conn, socket);
    assert.deepEqual(result, {
      type: "result",
      re: "auth",
      result: { ...CALLER, keyPackagesRemaining: 5, featureLevel: 3 },
    });
    assert.deepEqual(synced, { type: "synced", upTo: 0 }, "an empty queue is synced at once");
    assert.deepEqual(conn.caller, { ...CALLER, address: "192.0.2.1" });
    await auth(conn);
    assert.deepEqual(socket.take()[0], {
      type: "error",
      re: "auth",
      code: "bad-request",
      message: "already authenticated",
    });
  });

  it("refuses other protocol versions", async () => {
    const { conn, socket } = connect();
    await send(conn, { type: "auth", id: 1, v: PROTOCOL_VERSION + 1, token: TOKEN });
    assert.equal(socket.take()[0]!.code, "server-too-old");
    assert.equal(conn.caller, undefined);
  });

  it("closes a connection the registry refuses, telling the client why", async () => {
    const refusal = new ProtocolError("too-many-connections", "at most 16 connections per account");
    const { conn, socket, detached } = connect({ attach: () => refusal });
    await auth(conn);
    assert.deepEqual(socket.take(), [
      { type: "error", re: "auth", code: "too-many-connections", message: refusal.message },
    ]);
    assert.deepEqual(socket.closedWith, [4029, refusal.message]);
    assert.equal(conn.caller, undefined);
    assert.deepEqual(detached, [], "a refused connection was never registered");
  });
});

describe("Connection: requests", { timeout: 5000 }, () => {
  it("hands authenticated requests to the service and answers each by its id", async () => {
    const seen: unknown[] = [];
    const { conn, socket } = connect({
      service: {
        handle: (caller, frame) => {
          seen.push([caller.deviceId, frame.type]);
          return Promise.resolve({ now: 7 });
        },
      },
    });
    await signIn(conn, socket);
    await send(conn, { type: "ping", id: "p" });
    assert.deepEqual(seen, [["device-a", "ping"]]);
    assert.deepEqual(socket.take(), [{ type: "result", re: "p", result: { now: 7 } }]);
  });

  it("answers unreadable and oversized frames with typed errors, with the id when it can read one", async () => {
    const { conn, socket } = connect();
    await conn.receive("not json", 8);
    await send(conn, { type: "nonsense", id: 4 });
    await conn.receive(JSON.stringify({ type: "ping", id: 5, pad: "x".repeat(1000) }), 1020);
    const [unreadable, unknown, large] = socket.take();
    assert.deepEqual(
      [unreadable!.code, unreadable!.re, unknown!.code, unknown!.re],
      ["bad-frame", undefined, "bad-frame", 4],
    );
    assert.deepEqual(large, {
      type: "error",
      re: 5,
      code: "too-large",
      message: "frame is 1020 bytes; the limit is 1000",
      details: { limit: 1000 },
    });
  });

  it("refuses requests beyond the in-flight limit until one finishes", async () => {
    const waiting: (() => void)[] = [];
    const { conn, socket } = connect({
      maxInFlight: 2,
      service: { handle: () => new Promise((resolve) => waiting.push(() => resolve({}))) },
    });
    await signIn(conn, socket);
    const first = send(conn, { type: "ping", id: 1 });
    const second = send(conn, { type: "ping", id: 2 });
    await send(conn, { type: "ping", id: 3 });
    assert.deepEqual(socket.take(), [
      {
        type: "error",
        re: 3,
        code: "rate-limited",
        message: "at most 2 requests may be in progress at once",
        details: { retryAfterS: 1 },
      },
    ]);
    waiting.shift()!();
    await first;
    const fourth = send(conn, { type: "ping", id: 4 });
    assert.deepEqual(
      socket.take().map((f) => [f.type, f.re]),
      [["result", 1]],
      "a finished request frees its place",
    );
    for (const w of waiting.splice(0)) w();
    await Promise.all([second, fourth]);
  });

  it("tells the client a storage failure means retry later, and logs it", async () => {
    const { conn, socket, log } = connect({
      service: { handle: () => Promise.reject(new StoreError("full", "disk full")) },
    });
    await signIn(conn, socket);
    await send(conn, { type: "ping", id: 9 });
    assert.deepEqual(socket.take(), [
      {
        type: "error",
        re: 9,
        code: "storage-unavailable",
        message: "the server's storage is full; nothing was changed, retry later",
        details: { retryAfterS: 5 },
      },
    ]);
    assert.ok(log.events.includes("store.failed"));
  });

  it("closes a client that keeps sending without reading the answers", async () => {
    const { conn, socket } = connect();
    socket.buffered = 17 * 1024 * 1024;
    await send(conn, { type: "ping", id: 1 });
    assert.equal(socket.closedWith?.[0], 1008);
    assert.deepEqual(socket.take(), []);
  });
});

describe("Connection: the queue push", { timeout: 5000 }, () => {
  it("pushes at most a window of unacknowledged deliveries, then more as acks come", async () => {
    const { conn, socket, queue } = connect({ queue: new FakeQueue(300) });
    const first = (await signIn(conn, socket)).slice(1);
    assert.equal(first.length, DEFAULT_LIMITS.deliveryWindow, "256 deliveries and no `synced` yet");
    assert.deepEqual(
      [first[0]!.seq, first.at(-1)!.seq, first[0]!.type, first[0]!.data],
      [1, 256, "deliver", "AQ=="],
    );
    assert.equal(conn.unacked, 256);
    await send(conn, { type: "ack", upTo: 10 });
    await settle();
    assert.deepEqual(
      socket.take().map((f) => f.seq),
      [257, 258, 259, 260, 261, 262, 263, 264, 265, 266],
      "an unanswered ack gets no result, and frees ten places",
    );
    await send(conn, { type: "ack", id: "a", upTo: 266 });
    await settle();
    const rest = socket.take();
    assert.deepEqual(
      rest.find((f) => f.type === "result"),
      { type: "result", re: "a", result: { removed: 256 } },
    );
    assert.equal(rest.filter((f) => f.type === "deliver").length, 34);
    assert.deepEqual(
      rest.find((f) => f.type === "synced"),
      { type: "synced", upTo: 300 },
      "synced once the whole queue was pushed",
    );
    assert.deepEqual(queue.acks, [10, 266]);
  });

  it("acknowledges only what was pushed", async () => {
    const { conn, socket, queue } = connect({ queue: new FakeQueue(3) });
    await signIn(conn, socket);
    queue.entries.push(delivery(4));
    await send(conn, { type: "ack", id: 1, upTo: 99 });
    assert.deepEqual(queue.acks, [3], "entry 4 was never pushed, so it stays");
    assert.deepEqual(socket.take()[0], { type: "result", re: 1, result: { removed: 3 } });
  });

  it("pushes a new entry at once when nothing older waits, and leaves it to the pump when the window is full", async () => {
    const { conn, socket, queue } = connect({ queue: new FakeQueue(2), window: 3 });
    assert.deepEqual(
      (await signIn(conn, socket)).map((f) => f.type),
      ["result", "deliver", "deliver", "synced"],
    );
    queue.entries.push(delivery(3));
    conn.offer(delivery(3));
    assert.deepEqual(
      socket.take().map((f) => f.seq),
      [3],
      "pushed live",
    );
    queue.entries.push(delivery(4));
    conn.offer(delivery(4));
    assert.deepEqual(socket.take(), [], "three are unacknowledged: the window is full");
    await send(conn, { type: "ack", upTo: 1 });
    await settle();
    assert.deepEqual(
      socket.take().map((f) => f.seq),
      [4],
      "the ack made room and the pump read it from the store",
    );
  });

  it("stops pushing while the socket is backed up and resumes once it drains", async () => {
    const { conn, socket, queue } = connect({ queue: new FakeQueue(1) });
    await signIn(conn, socket);
    socket.buffered = 5 * 1024 * 1024;
    queue.entries.push(delivery(2));
    conn.offer(delivery(2));
    await settle();
    assert.deepEqual(socket.take(), []);
    socket.buffered = 0;
    await new Promise((resolve) => setTimeout(resolve, 80));
    await settle();
    assert.deepEqual(
      socket.take().map((f) => f.seq),
      [2],
    );
  });

  it("closes the connection when the queue cannot be read", async () => {
    const queue = new FakeQueue(1);
    queue.pending = () => Promise.reject(new StoreError("unavailable", "could not make writes durable"));
    const { conn, socket, detached } = connect({ queue });
    await auth(conn);
    await settle();
    assert.deepEqual(socket.closedWith, [1011, "could not read the message queue; reconnect"]);
    assert.deepEqual(detached, [conn]);
  });
});
