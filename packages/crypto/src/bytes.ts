import { CryptoError } from "./types.ts";

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 encode a string. */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Strict UTF-8 decode; invalid sequences are "malformed" rather than silently replaced. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch (cause) {
    throw new CryptoError("malformed", "invalid UTF-8", { cause });
  }
}

/** Byte-wise equality (not constant time: only for public values). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Unpadded base64url, shared with the wire protocol. */
export { toBase64Url } from "@sori/protocol";

/**
 * Minimal length-prefixed writer for our own storage encodings: a leading format version byte,
 * then fields. Kept deliberately tiny so the formats are easy to read in a hex dump.
 */
export class ByteWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  u8(value: number): this {
    return this.raw(Uint8Array.of(value & 0xff));
  }

  /** A byte string with a 4-byte big-endian length prefix. */
  bytes(value: Uint8Array): this {
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, value.length);
    return this.raw(prefix).raw(value);
  }

  raw(value: Uint8Array): this {
    this.chunks.push(value);
    this.length += value.length;
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** Counterpart of ByteWriter; every overrun is a "malformed" CryptoError. */
export class ByteReader {
  private offset = 0;
  private readonly input: Uint8Array;
  private readonly what: string;

  constructor(input: Uint8Array, what: string) {
    this.input = input;
    this.what = what;
  }

  u8(): number {
    const value = this.input[this.offset];
    if (value === undefined) throw this.truncated();
    this.offset += 1;
    return value;
  }

  bytes(): Uint8Array {
    if (this.offset + 4 > this.input.length) throw this.truncated();
    const view = new DataView(this.input.buffer, this.input.byteOffset + this.offset, 4);
    const length = view.getUint32(0);
    this.offset += 4;
    if (this.offset + length > this.input.length) throw this.truncated();
    // Copy so the result does not pin (or alias) the caller's possibly larger buffer.
    const value = this.input.slice(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** Consumes the rest of the input. */
  rest(): Uint8Array {
    const value = this.input.slice(this.offset);
    this.offset = this.input.length;
    return value;
  }

  /** Fails unless every byte was consumed, so trailing garbage is not silently accepted. */
  end(): void {
    if (this.offset !== this.input.length) {
      throw new CryptoError("malformed", `${this.what}: trailing bytes`);
    }
  }

  private truncated(): CryptoError {
    return new CryptoError("malformed", `${this.what}: truncated`);
  }
}
