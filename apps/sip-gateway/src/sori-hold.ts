import { randomInt } from "node:crypto";
import type { Logger } from "@sori/server";
import type { Bridged } from "./bridged.ts";
import type { InDialogRequests } from "./in-dialog-requests.ts";
import type { Reinvites } from "./reinvites.ts";
import type { SipResponse } from "./sip/sip-message.ts";
import { type ClientTransactions, newBranch, type TransactionIo } from "./sip/transactions.ts";

/** Re-INVITEs a 491 is answered with again before the hold counts as failed. */
const GLARE_RETRIES = 4;

/**
 * The Sori side holds a phone call or takes it off hold (its device's `media` signal says `held`):
 * the gateway stops (or resumes) the relay both ways at once and tells the phone with a re-INVITE,
 * `a=sendonly` to hold and `a=sendrecv` to resume (RFC 3264 §8.4, RFC 6337 §5.3). A 491 (the phone's
 * re-INVITE crossed it) is tried again after RFC 3261 §14.1's random wait; any other refusal, or
 * none in time, leaves the session as it was (§14.1) and the call going on, held on the gateway's
 * side only: the Sori side's `remoteMedia.holdFailed` says the phone was not told.
 */
export function createSoriHold(d: {
  log: Logger;
  io: TransactionIo;
  client: ClientTransactions;
  requests: Pick<InDialogRequests, "sendAck" | "dialogHeaders" | "contactHeader">;
  reinvites: Pick<Reinvites, "offer" | "answered">;
  allow: string;
}): { changed(b: Bridged, held: boolean): void } {
  const { log, requests } = d;

  function failed(b: Bridged, held: boolean, status: number | "timeout"): void {
    log.warn("sip-sori-hold-failed", { callId: b.callId, held, status });
    b.call?.setHoldFailed(true);
  }

  /** Tells the phone what the Sori side wants, if it was not told yet and nothing else is under way. */
  function pass(b: Bridged, attempt: number): void {
    const hold = b.soriHold;
    if (b.state !== "connected" || hold.inFlight || hold.cancelRetry || hold.told === hold.wanted) return;
    const held = hold.wanted;
    const offer = d.reinvites.offer(b, held ? "sendonly" : "sendrecv");
    if (!offer) return;
    hold.inFlight = true;
    const branch = newBranch();
    const seq = ++b.localSeq;
    const done = (r: SipResponse | undefined): void => {
      hold.inFlight = false;
      if (b.state !== "connected") return;
      if (r && r.status < 300) {
        requests.sendAck(b, r, newBranch(), seq);
        if (!d.reinvites.answered(b, r.body)) return;
        hold.told = held;
        log.info(held ? "sip-sori-held" : "sip-sori-resumed", { callId: b.callId });
        b.call?.setHoldFailed(false);
        // The Sori side changed its mind while the phone was asked: ask again.
        return pass(b, 0);
      }
      // The INVITE transaction's failure is acknowledged on its own branch.
      if (r) requests.sendAck(b, r, branch, seq);
      b.sdp = offer.previous;
      if (r?.status === 491 && attempt < GLARE_RETRIES) {
        // RFC 3261 §14.1: 2.1–4 s for the dialog's Call-ID owner (the gateway calling out), else 0–2 s,
        // in units of 10 ms.
        const ms = b.direction === "out" ? randomInt(210, 401) * 10 : randomInt(0, 201) * 10;
        log.info("sip-sori-hold-glare", { callId: b.callId, retryMs: ms });
        hold.cancelRetry = d.io.setTimer(() => {
          hold.cancelRetry = undefined;
          pass(b, attempt + 1);
        }, ms);
        return;
      }
      failed(b, held, r?.status ?? "timeout");
    };
    d.client
      .request(
        {
          method: "INVITE",
          uri: b.target,
          headers: [
            ...requests.dialogHeaders(b, branch, b.remoteUri, `${seq} INVITE`),
            ...requests.contactHeader(b),
            ["Allow", d.allow],
          ],
          body: offer.sdp,
        },
        branch,
        b.phone,
      )
      .then(done, () => done(undefined));
  }

  return {
    changed(b, held) {
      const hold = b.soriHold;
      if (hold.wanted === held) return;
      hold.wanted = held;
      // Held at once on the gateway's side, whatever the phone makes of the re-INVITE.
      b.leg.soriHeld = held;
      log.info(held ? "sip-sori-hold" : "sip-sori-resume", { callId: b.callId });
      // Back to what the phone was last told (a refused hold, then resume): nothing to ask, nothing failed.
      if (hold.told === held && !hold.inFlight) {
        hold.cancelRetry?.();
        hold.cancelRetry = undefined;
        b.call?.setHoldFailed(false);
        return;
      }
      pass(b, 0);
    },
  };
}
