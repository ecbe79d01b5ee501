import { randomBytes } from "node:crypto";
import type { SipSource } from "./sip-format.ts";

/** A fresh From/To tag. */
export function tag(): string {
  return randomBytes(6).toString("hex");
}

/** `addr` with tag `t`, unless it has a tag already. */
export function withTag(addr: string, t: string): string {
  return /;\s*tag=/i.test(addr) ? addr : `${addr};tag=${t}`;
}

/** The key a dialog is found under: its Call-ID and this side's tag. */
export function dialogKey(callId: string, localTag: string): string {
  return `${callId}|${localTag}`;
}

/** How a URI asks to be reached (RFC 3261 §19.1.2, §26.2): sips: and transport=tls by TLS. */
export function transportOf(uri: {
  scheme: string;
  params: Record<string, string | null>;
}): SipSource["transport"] {
  const t = uri.params.transport?.toLowerCase();
  if (uri.scheme === "sips" || t === "tls") return "TLS";
  return t === "tcp" ? "TCP" : "UDP";
}

/**
 * The gateway's Contact for a dialog with a phone reached over `transport` at `at` (host:port):
 * sips: only when the phone's own target is sips: (baresip 1.0 cannot send to a sips: URI at all).
 */
export function contactFor(transport: SipSource["transport"], target: string, at: string): string {
  if (transport === "TLS" && target.toLowerCase().startsWith("sips:")) return `<sips:gateway@${at}>`;
  const param = { UDP: "", TCP: ";transport=tcp", TLS: ";transport=tls" }[transport];
  return `<sip:gateway@${at}${param}>`;
}
