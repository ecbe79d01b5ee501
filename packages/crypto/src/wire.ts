import { decodeMlsMessage, encodeMlsMessage, type MLSMessage, type MlsMessageContent } from "ts-mls";
import { CryptoError } from "./types.ts";

/** Decodes a complete MLSMessage; garbage, truncation or trailing bytes are "malformed". */
export function decodeWire(bytes: Uint8Array, what: string): MLSMessage {
  if (!(bytes instanceof Uint8Array)) throw new CryptoError("malformed", `${what}: not bytes`);
  let decoded: [MLSMessage, number] | undefined;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch (cause) {
    // The TLS decoders can throw (RangeError on a DataView overrun) instead of returning undefined.
    throw new CryptoError("malformed", `${what}: not an MLS message`, { cause });
  }
  if (decoded === undefined) throw new CryptoError("malformed", `${what}: not an MLS message`);
  // The second element is the number of bytes consumed (equal to the end offset only from 0).
  if (decoded[1] !== bytes.length) throw new CryptoError("malformed", `${what}: trailing bytes`);
  return decoded[0];
}

/** Encodes message content as an MLS 1.0 MLSMessage. */
export function encodeWire(content: MlsMessageContent): Uint8Array {
  return encodeMlsMessage({ version: "mls10", ...content });
}
