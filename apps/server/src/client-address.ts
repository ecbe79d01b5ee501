import type { IncomingMessage } from "node:http";

/**
 * The address a request comes from, for the per-address abuse limits. Behind a reverse proxy every
 * request arrives from the proxy, so with `trustProxy` the address is the last one in X-Forwarded-For:
 * the one the proxy itself appended (earlier entries are whatever the client claimed, and are ignored).
 * Without `trustProxy` the header is ignored, so a client cannot pick its own address.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const socketAddress = req.socket.remoteAddress ?? "?";
  if (!trustProxy) return socketAddress;
  const header = req.headers["x-forwarded-for"];
  const value = Array.isArray(header) ? header.at(-1) : header;
  const last = value?.split(",").at(-1)?.trim();
  return last && last.length <= 64 ? last : socketAddress;
}
