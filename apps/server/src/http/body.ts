import type { IncomingMessage } from "node:http";
import { ProtocolError } from "@sori/protocol";
import type { z } from "zod";

/** The most of an oversized JSON body the server reads (and discards) to answer 413 cleanly. */
const MAX_JSON_DRAIN_BYTES = 16 * 1024 * 1024;
/** How much past its limit a raw body is read (and discarded) before the connection is cut. */
const RAW_DRAIN_BYTES = 4 * 1024 * 1024;

/**
 * Reads a body of at most `max` bytes; undefined if it was larger. Past the limit the rest is read and
 * dropped (not buffered) so the client gets the 413 instead of a reset connection; past `cutAt` bytes
 * the connection is cut.
 */
async function readLimited(req: IncomingMessage, max: number, cutAt: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > cutAt) {
      req.destroy();
      break;
    }
    if (size <= max) chunks.push(chunk);
  }
  return size > max ? undefined : Buffer.concat(chunks);
}

/** Reads and parses a JSON body of at most `maxBytes`; typed too-large and bad-request errors otherwise. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const body = await readLimited(req, maxBytes, MAX_JSON_DRAIN_BYTES);
  if (!body) {
    throw new ProtocolError("too-large", `request body exceeds ${maxBytes} bytes`, { limit: maxBytes });
  }
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new ProtocolError("bad-request", "request body is not valid JSON");
  }
}

/** Reads a raw body of at most `max` bytes; more is a typed too-large error. */
export async function readRaw(req: IncomingMessage, max: number): Promise<Buffer> {
  const body = await readLimited(req, max, max + RAW_DRAIN_BYTES);
  if (!body)
    throw new ProtocolError("too-large", `a chunk can have at most ${max} bytes here`, { limit: max });
  return body;
}

/** A parsed JSON body checked against `schema`: bad-request naming the first three faults otherwise. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const why = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".")}: ${i.message}`)
      .join("; ");
    throw new ProtocolError("bad-request", `invalid request: ${why}`);
  }
  return parsed.data;
}
