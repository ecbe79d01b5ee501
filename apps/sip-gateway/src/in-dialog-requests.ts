import type { Logger } from "@sori/server";
import type { Bridged } from "./bridged.ts";
import { contactFor } from "./sip/dialog-ids.ts";
import { formatRequest, type SipSource } from "./sip/sip-format.ts";
import { headerValue, type SipResponse } from "./sip/sip-message.ts";
import { type ClientTransactions, newBranch, type TransactionIo } from "./sip/transactions.ts";

/** The requests the gateway sends inside a dialog (ACK, CANCEL, BYE), and the headers they share. */
export type InDialogRequests = {
  /**
   * ACK for a final response to the gateway's INVITE (a 2xx gets its own branch): the dialog's first
   * unless `seq` names a re-INVITE's CSeq.
   */
  sendAck(b: Bridged, answer: SipResponse, branch: string, seq?: number): void;
  /** The Sori caller gave up while the phone rang: CANCEL the INVITE (RFC 3261 §9.1). */
  sendCancel(b: Bridged): void;
  sendBye(b: Bridged): void;
  /** The headers of a request the gateway sends in dialog `b`. */
  dialogHeaders(b: Bridged, branch: string, to: string, cseq: string): [string, string][];
  /**
   * Where the phone sends in-dialog requests: the gateway over the transport the dialog uses. A
   * sips: Contact only when the phone's own target is sips: (RFC 3261 §12.1.1); phones that dial
   * sip:…;transport=tls (baresip 1.0 among them) cannot send to a sips: URI at all.
   */
  contactHeader(b: Pick<Bridged, "phone" | "target">): [string, string][];
};

export function inDialogRequests(o: {
  io: TransactionIo;
  client: ClientTransactions;
  log: Logger;
  /** The gateway's address in Via and Contact. */
  address: string;
  ports: { udp?: number; tcp?: number; tls?: number };
}): InDialogRequests {
  const { io, client, log } = o;
  const main = o.ports.udp ?? o.ports.tcp ?? o.ports.tls ?? 0;
  /** The port the gateway listens on for `transport` (a stream without its listener: the main port). */
  const portOf = (transport: SipSource["transport"]): number =>
    ({ UDP: o.ports.udp, TCP: o.ports.tcp, TLS: o.ports.tls })[transport] ?? main;

  const dialogHeaders = (b: Bridged, branch: string, to: string, cseq: string): [string, string][] => [
    // The transport the request goes over (RFC 3261 §18.1.1), with that listener's port.
    ["Via", `SIP/2.0/${b.phone.transport} ${o.address}:${portOf(b.phone.transport)};branch=${branch};rport`],
    ["Max-Forwards", "70"],
    ["From", b.localUri],
    ["To", to],
    ["Call-ID", b.callId],
    ["CSeq", cseq],
  ];

  return {
    dialogHeaders,
    sendAck: (b, answer, branch, seq) => {
      const to = headerValue(answer, "To") ?? b.remoteUri;
      const headers = dialogHeaders(b, branch, to, `${seq ?? b.outgoing?.seq ?? 1} ACK`);
      io.send(formatRequest({ method: "ACK", uri: b.target, headers }), b.phone);
    },
    sendCancel: (b) => {
      const out = b.outgoing;
      if (!out) return;
      const headers = dialogHeaders(b, out.branch, out.to, `${out.seq} CANCEL`);
      void client
        .request({ method: "CANCEL", uri: out.uri, headers }, out.branch, b.phone)
        .catch(() => log.info("sip-cancel-unanswered", { callId: b.callId }));
    },
    sendBye: (b) => {
      const branch = newBranch();
      b.localSeq++;
      const headers = dialogHeaders(b, branch, b.remoteUri, `${b.localSeq} BYE`);
      void client
        .request({ method: "BYE", uri: b.target, headers }, branch, b.phone)
        .catch(() => log.info("sip-bye-unanswered", { callId: b.callId }));
    },
    contactHeader: (b) => [
      ["Contact", contactFor(b.phone.transport, b.target, `${o.address}:${portOf(b.phone.transport)}`)],
    ],
  };
}
