import { mlsExporter } from "ts-mls";
import { cipherSuite } from "./cipher-suite.ts";
import { toCryptoError } from "./errors.ts";
import { type MlsGroup, requireActive, unwrapGroup } from "./group.ts";
import { CryptoError } from "./types.ts";

/** HKDF-Expand output limit for SHA-256. */
const MAX_EXPORT_LENGTH = 255 * 32;

/** MLS-Exporter (RFC 9420 §8.5): a secret every member of this epoch derives identically. */
export async function exportSecret(
  group: MlsGroup,
  label: string,
  context: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  const state = unwrapGroup(group);
  requireActive(state);
  if (!Number.isInteger(length) || length < 1 || length > MAX_EXPORT_LENGTH) {
    throw new CryptoError("malformed", `exportSecret: length must be 1..${MAX_EXPORT_LENGTH}`);
  }
  try {
    return await mlsExporter(state.keySchedule.exporterSecret, label, context, length, await cipherSuite());
  } catch (error) {
    throw toCryptoError(error, "exportSecret", "internal");
  }
}
