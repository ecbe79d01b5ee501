import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import { UsageError } from "./usage-error.ts";

/** A PEM file's text, or a usage error naming it ("cannot read the SIP TLS key …: ENOENT"). */
export async function readPemFile(file: string, what: string): Promise<string> {
  return readFile(file, "utf8").catch((e: unknown) => {
    throw new UsageError(`cannot read the ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  });
}

/**
 * A certificate and its key, read and loaded here, so that a wrong file is a usage error before
 * anything starts. `label` names whose they are in the messages ("SIP TLS", "files TLS").
 */
export async function readTlsPair(
  certFile: string,
  keyFile: string,
  label: string,
): Promise<{ cert: string; key: string }> {
  const cert = await readPemFile(certFile, `${label} certificate`);
  const key = await readPemFile(keyFile, `${label} key`);
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new UsageError(`the ${label} certificate and key do not load: ${(e as Error).message}`);
  }
  return { cert, key };
}
