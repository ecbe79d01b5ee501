import { readFileSync } from "node:fs";
import { ConfigError } from "./config.ts";

/** A certificate chain and its private key, PEM, as node:https takes them. */
export type TlsFiles = { cert: Buffer; key: Buffer };

/**
 * Reads `--tls-cert` and `--tls-key` once at start. A missing or unreadable file is a ConfigError naming
 * it, so a typo stops the server instead of silently serving plain HTTP.
 */
export function readTlsFiles(certPath: string, keyPath: string): TlsFiles {
  const read = (flag: string, path: string): Buffer => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      const why = (error as { code?: string }).code ?? "unreadable";
      throw new ConfigError(`${flag} ${path}: cannot read it (${why})`);
    }
    if (!bytes.includes("-----BEGIN ")) throw new ConfigError(`${flag} ${path}: not a PEM file`);
    return bytes;
  };
  return { cert: read("--tls-cert", certPath), key: read("--tls-key", keyPath) };
}

/** Sent on every response over TLS: browsers then refuse plain HTTP to this host for a year. */
export const HSTS_HEADER = "max-age=31536000";
