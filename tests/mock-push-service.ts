// A push service for the tests (RFC 8030) on 127.0.0.1, and what a browser does with what it gets:
// its subscription keys, decrypting a push (RFC 8291 over RFC 8188) and checking the VAPID token
// (RFC 8292). Written from the RFCs apart from the server's code, so that the two cannot share a bug.
import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  type ECDH,
  hkdfSync,
  randomBytes,
  verify,
} from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the push service received. */
export type ReceivedPush = { path: string; headers: IncomingHttpHeaders; body: Buffer; at: number };

/** What the push service answers a request with (201 Created by default, as the big ones do). */
export type PushAnswer = { status: number; headers?: Record<string, string> };

export type MockPushService = {
  /** The origin, `http://127.0.0.1:<port>`: what a VAPID token's `aud` must be. */
  origin: string;
  /** An endpoint URL on this service. */
  endpoint(path: string): string;
  received: ReceivedPush[];
  /** Sets how requests to `path` are answered, one answer per request in turn (the last one repeats). */
  answer(path: string, ...answers: PushAnswer[]): void;
  close(): Promise<void>;
};

export async function startMockPushService(): Promise<MockPushService> {
  const received: ReceivedPush[] = [];
  const answers = new Map<string, PushAnswer[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
      const queue = answers.get(path) ?? [];
      const a = (queue.length > 1 ? queue.shift() : queue[0]) ?? { status: 201 };
      res.writeHead(a.status, a.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    endpoint: (path) => `${origin}${path}`,
    received,
    answer: (path, ...a) => void answers.set(path, a),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A browser's side of a subscription: the JSON it hands the page, and the private half it keeps. */
export type BrowserSubscription = {
  json: { endpoint: string; keys: { p256dh: string; auth: string } };
  ecdh: ECDH;
  auth: Buffer;
};

/** Makes a subscription as a browser would: a fresh P-256 key pair and a 16-byte auth secret. */
export function browserSubscription(endpoint: string): BrowserSubscription {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return {
    json: { endpoint, keys: { p256dh: ecdh.getPublicKey("base64url"), auth: auth.toString("base64url") } },
    ecdh,
    auth,
  };
}

const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: string | Buffer, length: number): Buffer =>
  Buffer.from(hkdfSync("sha256", ikm, salt, typeof info === "string" ? Buffer.from(info) : info, length));

/**
 * RFC 8188 decoding with input keying material `ikm`: every record, its padding stripped (delimiter
 * 0x01 on all but the last, 0x02 on the last). Returns the key id from the header beside the text.
 */
export function decodeAes128gcm(body: Buffer, ikmFor: (keyId: Buffer) => Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idLength = body[20]!;
  const keyId = body.subarray(21, 21 + idLength);
  const ikm = ikmFor(keyId);
  const key = hkdf(ikm, salt, "Content-Encoding: aes128gcm\0", 16);
  const baseNonce = hkdf(ikm, salt, "Content-Encoding: nonce\0", 12);
  const records = body.subarray(21 + idLength);
  const out: Buffer[] = [];
  for (let seq = 0, at = 0; at < records.length; seq++, at += rs) {
    const record = records.subarray(at, Math.min(at + rs, records.length));
    const nonce = Buffer.from(baseNonce);
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
    const decipher = createDecipheriv("aes-128-gcm", key, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    const last = at + rs >= records.length;
    if (plain[end] !== (last ? 2 : 1)) throw new Error(`record ${seq}: wrong padding delimiter`);
    out.push(plain.subarray(0, end));
  }
  return Buffer.concat(out);
}

/** What a browser does with a push body (RFC 8291 §3.4): ECDH with the sender's key from the header. */
export function decryptPush(body: Buffer, sub: Pick<BrowserSubscription, "ecdh" | "auth">): Buffer {
  return decodeAes128gcm(body, (asPublic) => {
    const uaPublic = sub.ecdh.getPublicKey();
    const shared = sub.ecdh.computeSecret(asPublic);
    const info = Buffer.concat([Buffer.from("WebPush: info\0"), uaPublic, asPublic]);
    return hkdf(shared, sub.auth, info, 32);
  });
}

/** A VAPID token's claims (RFC 8292 §2). */
export type VapidClaims = { aud: string; exp: number; sub?: string };

/**
 * Checks an `Authorization: vapid t=…, k=…` header as a push service does: the JWT's header says
 * ES256, its signature verifies under `k` (a P-256 point). Returns `k` and the claims; throws if any
 * of it is wrong.
 */
export function verifyVapid(header: string | undefined): { k: string; claims: VapidClaims } {
  const m = /^vapid t=([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+), k=([A-Za-z0-9_-]+)$/.exec(
    header ?? "",
  );
  if (!m) throw new Error(`not a VAPID authorization: ${header}`);
  const [, h, c, s, k] = m as unknown as [string, string, string, string, string];
  const jwtHeader = JSON.parse(Buffer.from(h, "base64url").toString()) as { alg?: string; typ?: string };
  if (jwtHeader.alg !== "ES256") throw new Error(`alg is ${jwtHeader.alg}`);
  const point = Buffer.from(k, "base64url");
  if (point.length !== 65 || point[0] !== 4) throw new Error("k is not an uncompressed P-256 point");
  const key = createPublicKey({
    key: {
      kty: "EC",
      crv: "P-256",
      x: point.subarray(1, 33).toString("base64url"),
      y: point.subarray(33).toString("base64url"),
    },
    format: "jwk",
  });
  const ok = verify(
    "sha256",
    Buffer.from(`${h}.${c}`),
    { key, dsaEncoding: "ieee-p1363" },
    Buffer.from(s, "base64url"),
  );
  if (!ok) throw new Error("the VAPID signature does not verify");
  return { k, claims: JSON.parse(Buffer.from(c, "base64url").toString()) as VapidClaims };
}
