import { padPlaintext, unpadPlaintext } from "@sori/crypto";
import {
  API_PREFIX,
  type BlobCreateResponse,
  type BlobStatusResponse,
  fromBase64Url,
  toBase64Url,
} from "@sori/protocol";
import { SdkError } from "../errors.ts";
import { call } from "../transport/http-api.ts";

/** How far a transfer is, in bytes of ciphertext. */
export type TransferProgress = { done: number; total: number };

/** A file to send. The thumbnail (a small image, ≤ 15 KB) is made by the caller, e.g. with a canvas. */
export type FileInput = {
  name: string;
  mime?: string;
  bytes: Uint8Array;
  thumbnail?: Uint8Array;
  width?: number;
  height?: number;
  /** Voice messages: length in seconds. */
  durationS?: number;
  voice?: boolean;
};

const IV_BYTES = 12;
const ATTEMPTS = 5;

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
}

/**
 * Encrypts with a fresh AES-256-GCM key (WebCrypto: Node and browsers). The blob is IV ‖ ciphertext
 * of the file padded with Padmé (so the server learns its size only to within a few per cent); the key
 * and the blob's SHA-256 travel inside the MLS message, never to the server.
 */
export async function encryptAttachment(
  plaintext: Uint8Array,
): Promise<{ blob: Uint8Array; key: string; hash: string }> {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, padPlaintext(plaintext) as BufferSource),
  );
  const blob = new Uint8Array(IV_BYTES + ct.length);
  blob.set(iv);
  blob.set(ct, IV_BYTES);
  return { blob, key: toBase64Url(raw), hash: toBase64Url(await sha256(blob)) };
}

/** Checks the blob's hash, then decrypts; anything altered is SdkError "crypto". */
export async function decryptAttachment(
  blob: Uint8Array,
  keyText: string,
  hashText: string,
): Promise<Uint8Array> {
  const expected = fromBase64Url(hashText);
  const raw = fromBase64Url(keyText);
  if (!expected || !raw || raw.length !== 32)
    throw new SdkError("crypto", "the attachment's key is malformed");
  const actual = await sha256(blob);
  if (actual.length !== expected.length || actual.some((b, i) => b !== expected[i]))
    throw new SdkError("crypto", "the downloaded file does not match its hash");
  if (blob.length < IV_BYTES + 16) throw new SdkError("crypto", "the downloaded file is truncated");
  const key = await crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, ["decrypt"]);
  let padded: Uint8Array;
  try {
    padded = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: blob.subarray(0, IV_BYTES) as BufferSource },
        key,
        blob.subarray(IV_BYTES) as BufferSource,
      ),
    );
  } catch (error) {
    throw new SdkError("crypto", "the file could not be decrypted", {}, { cause: error });
  }
  try {
    return unpadPlaintext(padded);
  } catch (error) {
    throw new SdkError("crypto", "the decrypted file has no valid padding", {}, { cause: error });
  }
}

const transient = (e: unknown): boolean =>
  e instanceof SdkError && (e.code === "offline" || e.code === "rate-limited" || e.code === "internal");
const pause = (attempt: number): Promise<void> => new Promise((r) => setTimeout(r, 200 * 2 ** attempt));

/**
 * Uploads a blob in chunks. After a failed chunk it asks the server how much arrived and continues
 * from there (a few attempts with backoff), so a dropped connection costs at most one chunk.
 */
export async function uploadBlob(
  serverUrl: string,
  token: string,
  blob: Uint8Array,
  onProgress?: (p: TransferProgress) => void,
): Promise<string> {
  const auth = { authorization: `Bearer ${token}` };
  const created = await call<BlobCreateResponse>(serverUrl, "/blobs", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ size: blob.length }),
  });
  if (!created) throw new SdkError("bad-frame", "the server sent an empty answer");
  const { blobId, chunkBytes } = created;
  let offset = 0;
  let failures = 0;
  onProgress?.({ done: 0, total: blob.length });
  while (offset < blob.length) {
    const end = Math.min(blob.length, offset + chunkBytes);
    try {
      const r = await call<BlobStatusResponse>(serverUrl, `/blobs/${blobId}?offset=${offset}`, {
        method: "PUT",
        headers: { ...auth, "content-type": "application/octet-stream" },
        body: blob.subarray(offset, end) as BodyInit,
      });
      offset = r?.received ?? end;
      failures = 0;
      onProgress?.({ done: offset, total: blob.length });
    } catch (error) {
      const wrongOffset = error instanceof SdkError && typeof error.details.received === "number";
      if (!wrongOffset && (!transient(error) || ++failures >= ATTEMPTS)) throw error;
      if (!wrongOffset) await pause(failures);
      offset = await uploadedSoFar(serverUrl, token, blobId).catch(() => offset);
    }
  }
  return blobId;
}

/** How many bytes of a blob the server has (to resume an upload). */
async function uploadedSoFar(serverUrl: string, token: string, blobId: string): Promise<number> {
  const r = await call<BlobStatusResponse>(serverUrl, `/blobs/${blobId}/status`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return r?.received ?? 0;
}

/** Downloads a blob with Range requests, resuming after a failure where it stopped. */
export async function downloadBlob(
  serverUrl: string,
  token: string,
  blobId: string,
  onProgress?: (p: TransferProgress) => void,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let have = 0;
  let total: number | undefined;
  let failures = 0;
  while (total === undefined || have < total) {
    try {
      let res: Response;
      try {
        res = await fetch(new URL(`${API_PREFIX}/blobs/${blobId}`, serverUrl), {
          headers: { authorization: `Bearer ${token}`, ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
        });
      } catch (error) {
        throw new SdkError("offline", `cannot reach the server at ${serverUrl}`, {}, { cause: error });
      }
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
        throw new SdkError(
          body.error?.code === "not-found" ? "not-found" : res.status === 429 ? "rate-limited" : "internal",
          body.error?.message ?? `the server answered ${res.status}`,
        );
      }
      const range = res.headers.get("content-range")?.match(/\/(\d+)$/);
      total = range ? Number(range[1]) : Number(res.headers.get("content-length") ?? "0");
      if (!res.body) break;
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        have += value.length;
        onProgress?.({ done: have, total });
      }
      failures = 0;
    } catch (error) {
      // A body cut short arrives as a TypeError from the stream; both are worth another attempt.
      const retry = transient(error) || error instanceof TypeError;
      if (!retry || ++failures >= ATTEMPTS) throw error;
      await pause(failures);
    }
  }
  const out = new Uint8Array(have);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Tells the server this device has the blob (its hash checked): once every recipient has, it is deleted. */
export async function releaseBlob(serverUrl: string, token: string, blobId: string): Promise<void> {
  await call(serverUrl, `/blobs/${blobId}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${token}` },
  });
}
