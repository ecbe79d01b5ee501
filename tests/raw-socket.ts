import { PROTOCOL_VERSION } from "@sori/protocol";
import assert from "node:assert/strict";
import { WebSocket } from "ws";

export type Frame = Record<string, unknown>;

export type RawSocket = {
  send(text: string | Buffer): void;
  /** The next frame the server sent, whatever it is. */
  next(timeoutMs?: number): Promise<Frame>;
  /** Sends a request and resolves with its answer (result or error), skipping pushes in between. */
  call(frame: Frame, timeoutMs?: number): Promise<Frame>;
  /** Authenticates with `token`; resolves with the answer. */
  auth(token: string): Promise<Frame>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
};

/**
 * A raw protocol client: sends frames as given and collects what the server answers. With
 * `autoPong: false` it ignores the server's pings, as a peer behind a dead (half-open) link would.
 */
export async function rawSocket(
  url: string,
  options: { autoPong?: boolean; ca?: Buffer } = {},
): Promise<RawSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/api/v1/ws`, {
    autoPong: options.autoPong ?? true,
    ...(options.ca ? { ca: options.ca } : {}),
  });
  const frames: Frame[] = [];
  const waiters: ((f: Frame) => void)[] = [];
  let nextId = 1000;
  ws.on("message", (data) => {
    const f = JSON.parse(String(data)) as Frame;
    const w = waiters.shift();
    if (w) w(f);
    else frames.push(f);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const next = (timeoutMs = 5000): Promise<Frame> =>
    new Promise<Frame>((resolve, reject) => {
      const f = frames.shift();
      if (f) return resolve(f);
      const timer = setTimeout(() => reject(new Error("no frame from the server")), timeoutMs);
      waiters.push((x) => {
        clearTimeout(timer);
        resolve(x);
      });
    });
  const call = async (frame: Frame, timeoutMs = 5000): Promise<Frame> => {
    const id = frame.id ?? nextId++;
    ws.send(JSON.stringify({ ...frame, id }));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await next(Math.max(1, deadline - Date.now()));
      if ((f.type === "result" || f.type === "error") && f.re === id) return f;
    }
  };
  return {
    send: (text) => ws.send(text),
    next,
    call,
    auth: (token) => call({ type: "auth", v: PROTOCOL_VERSION, token }),
    closed,
    close: () => ws.terminate(),
  };
}

/** The fields of a frame a test compares: type, re and code. */
export function pick(frame: Frame): Frame {
  const out: Frame = { type: frame.type };
  if (frame.re !== undefined) out.re = frame.re;
  if (frame.code !== undefined) out.code = frame.code;
  return out;
}

/** A raw socket signed in with `token`; fails the test unless the auth frame is answered with a result. */
export async function authedSocket(url: string, token: string): Promise<RawSocket> {
  const s = await rawSocket(url);
  const r = await s.auth(token);
  if (r.type !== "result") s.close();
  assert.equal(r.type, "result", `auth: ${JSON.stringify(r)}`);
  return s;
}
