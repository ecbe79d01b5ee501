import type { ForeignParty, PhoneLineRef, PhoneLineRequest, SoriClient } from "@sori/sdk";
import { type Logger, TokenBuckets } from "@sori/server";
import { allowedBy } from "../account-policy.ts";
import { rateKey } from "../rate-key.ts";
import type { SipSource } from "../sip/sip-format.ts";
import type { Binding, Registrar } from "../sip/registrar.ts";
import type { ServerTransaction } from "../sip/transactions.ts";
import type { HostedLine, HostedLines } from "./hosted-lines.ts";
import type { LineAuth } from "./line-auth.ts";

/** Lines one Sori user may host at a gateway. */
const MAX_LINES_PER_USER = 5;
/**
 * REGISTERs per source address: phones behind one office NAT share an address, and each refresh is
 * two requests (401, then REGISTER with credentials). A larger budget than for INVITEs, still a bound
 * on scanners.
 */
const REGISTER_BURST = 40;
const REGISTERS_PER_SECOND = 10;
/** Lines one gateway hosts (its file is read whole at every start). */
const MAX_LINES = 10_000;

/** What the line desk needs from the gateway around it. */
export type LineDeskDeps = {
  hosted: HostedLines;
  registrar: Registrar;
  auth: LineAuth;
  client: SoriClient;
  log: Logger;
  stats: { rateLimited: number; authFailures: number };
  /** host:port phones reach the gateway at. */
  gatewayHost: string;
  /** Who may host their own phone here. */
  policy: "all" | "none" | readonly string[];
  isLocal(uri: { host: string; port: number | undefined }): boolean;
  /** Keeps a registered phone's TCP/TLS connection open until `until` (ms). */
  keepUntil(source: SipSource, until: number): void;
  saveLines(): void;
  /** Ends every call on the line at once (it was revoked). */
  endCalls(lineId: string): void;
  tag(): string;
};

/** The phone lines' side of the gateway: owners' requests (inside MLS) and their phones' REGISTERs. */
export type LineDesk = {
  register(tx: ServerTransaction): void;
  request(r: PhoneLineRequest): Promise<void>;
  authenticateCall(tx: ServerTransaction): Promise<{ line: HostedLine | undefined } | undefined>;
  /** How a line shows on the Sori side: its owner's address at the gateway and the line's name. */
  party(line: HostedLine): ForeignParty;
  /** Of a person's lines here, the phone registered last (one call rings one phone for now). */
  phoneFor(refs: readonly PhoneLineRef[]): { binding?: Binding; line?: HostedLine };
};

/** The desk where phone lines are added, removed and registered. */
export function createLineDesk(d: LineDeskDeps): LineDesk {
  const registers = new TokenBuckets(REGISTER_BURST, REGISTERS_PER_SECOND);
  /** A phone REGISTERs for its line (RFC 3261 §10.3) after a digest challenge. */
  function register(tx: ServerTransaction): void {
    const req = tx.request;
    if (registers.take(rateKey(tx.source.address)) > 0) {
      d.stats.rateLimited++;
      return;
    }
    // This registrar's own domain only (RFC 3261 §10.3 steps 1 and 3).
    if (!d.isLocal(req.uri) || !d.isLocal(req.to.uri)) return tx.respond(404, { toTag: d.tag() });
    const check = d.auth.check(req, "www", tx.source.address);
    if (!check.ok) {
      // The same challenge and the same refusal whether the user exists or not.
      if (check.answer === "challenge")
        return tx.respond(401, {
          toTag: d.tag(),
          headers: d.auth.challenge("www", tx.source.address, check.stale),
        });
      d.stats.authFailures++;
      d.log.info("sip-auth-failed", { method: "REGISTER", from: tx.source.address, reason: check.reason });
      return tx.respond(403, { toTag: d.tag() });
    }
    const line = check.line;
    const aor = line.owner.username.toLowerCase();
    if (req.to.uri.user?.toLowerCase() !== aor)
      return tx.respond(403, {
        toTag: d.tag(),
        headers: [
          ["Warning", `399 sori "this line registers as sip:${line.owner.username}@${d.gatewayHost}"`],
        ],
      });
    const result = d.registrar.register({
      aor,
      lineId: line.id,
      request: req,
      source: tx.source,
      now: Date.now(),
    });
    tx.respond(result.status, { toTag: d.tag(), headers: result.headers });
    if (result.status === 200) {
      // A phone registered over TCP or TLS is reached only through that connection (RFC 5626's
      // reason to exist): it stays open while the binding lives, idle or not.
      const until = Math.max(0, ...result.bindings.map((x) => x.expiresAt));
      d.keepUntil(tx.source, until);
      d.saveLines();
    } else
      d.log.info("sip-register-refused", { line: line.id, status: result.status, reason: result.reason });
  }

  /** A Sori user asks to host (or drop) a phone line here, inside their MLS chat with the gateway. */
  async function request(r: PhoneLineRequest): Promise<void> {
    const { change, from } = r;
    if (change.op === "remove") return removeLine(change.line.id, from.userId);
    const id = change.line.id;
    const refuse = (reason: string): Promise<void> => {
      d.log.info("sip-line-refused", { line: id, owner: from.userId, reason });
      return d.client.phoneLines.reply(r.chat, { op: "refused", line: { id }, reason });
    };
    if (!allowedBy(d.policy, from.username)) return refuse("this gateway hosts no phone lines for you");
    const existing = d.hosted.get(id);
    if (existing && existing.owner.userId !== from.userId) return refuse("that line id is taken");
    if (!existing && d.hosted.size >= MAX_LINES)
      return refuse("this gateway hosts as many phone lines as it can");
    if (!existing && d.hosted.ofOwner(from.userId).length >= MAX_LINES_PER_USER)
      return refuse(`a person may have at most ${MAX_LINES_PER_USER} phone lines here`);
    const authUser = `${from.username}.${id.slice(0, 8)}`;
    // A new password for an existing line: phones registered with the old one are out.
    if (existing) d.registrar.removeLine(id);
    d.hosted.put({
      id,
      owner: { userId: from.userId, username: from.username },
      name: change.line.name,
      authUser,
      realm: d.auth.realm,
      ha1: d.auth.digestsOf(authUser, change.password),
      createdAt: existing?.createdAt ?? Date.now(),
    });
    // Saved before the owner hears "ready": a line they were told about survives a crash.
    try {
      await d.hosted.save(d.registrar.toJSON());
    } catch (error) {
      if (existing) d.hosted.put(existing);
      else d.hosted.delete(id);
      d.log.error("sip-lines-save-failed", { message: (error as Error).message });
      return refuse("the gateway could not store the line; try again later");
    }
    d.log.info("sip-line-added", { line: id, owner: from.userId });
    await d.client.phoneLines.reply(r.chat, {
      op: "ready",
      line: { id },
      aor: `sip:${from.username}@${d.gatewayHost}`,
      authUser,
      registrar: `sip:${d.gatewayHost}`,
    });
  }

  /** Revocation takes effect at once: registrations go, and calls on the line end. */
  function removeLine(id: string, ownerId: string): void {
    const line = d.hosted.get(id);
    if (!line || line.owner.userId !== ownerId) return;
    d.hosted.delete(id);
    const dropped = d.registrar.removeLine(id);
    d.endCalls(id);
    d.saveLines();
    d.log.info("sip-line-removed", { line: id, owner: ownerId, registrations: dropped });
  }

  /**
   * A new INVITE's caller, if it must prove who it is: a call out of the gateway, or one calling as
   * a Sori user (their own phone). Answers the INVITE itself (407, 403) and gives undefined when it
   * does not pass; otherwise the line it authenticated as, if any.
   */
  async function authenticateCall(
    tx: ServerTransaction,
  ): Promise<{ line: HostedLine | undefined } | undefined> {
    const req = tx.request;
    const local = d.isLocal(req.uri);
    const fromUser = d.isLocal(req.from.uri) ? req.from.uri.user : undefined;
    // Anyone calling as a Sori user here must prove it, whether or not that user has a phone line
    // (answering only for line owners would tell the world who has one).
    const claimsUser =
      fromUser !== undefined &&
      (d.hosted.hasOwnerNamed(fromUser) ||
        (await d.client.findUser(fromUser).catch(() => undefined)) !== undefined);
    if (tx.answered) return undefined;
    if (local && !claimsUser) return { line: undefined };
    const check = d.auth.check(req, "proxy", tx.source.address);
    if (!check.ok) {
      if (check.answer === "challenge")
        tx.respond(407, {
          toTag: d.tag(),
          headers: d.auth.challenge("proxy", tx.source.address, check.stale),
        });
      else {
        d.stats.authFailures++;
        d.log.info("sip-auth-failed", { method: "INVITE", from: tx.source.address, reason: check.reason });
        tx.respond(403, { toTag: d.tag() });
      }
      return undefined;
    }
    const line = check.line;
    if (claimsUser && fromUser.toLowerCase() !== line.owner.username.toLowerCase()) {
      tx.respond(403, { toTag: d.tag() });
      return undefined;
    }
    if (!local) {
      tx.respond(403, {
        toTag: d.tag(),
        headers: [
          [
            "Warning",
            '399 sori "a phone on this gateway calls Sori usernames; other SIP addresses are not relayed yet"',
          ],
        ],
      });
      return undefined;
    }
    return { line };
  }

  function phoneFor(refs: readonly PhoneLineRef[]): { binding?: Binding; line?: HostedLine } {
    const lines = refs
      .map((ref) => d.hosted.get(ref.id))
      .filter(
        (l): l is HostedLine =>
          l !== undefined && refs.some((r) => r.id === l.id && r.owner === l.owner.userId),
      );
    const owner = lines[0]?.owner.username.toLowerCase();
    const binding = owner
      ? d.registrar
          .contactsOf(owner, Date.now())
          .filter((x) => lines.some((l) => l.id === x.lineId))
          .at(-1)
      : undefined;
    const line = binding && lines.find((l) => l.id === binding.lineId);
    return { ...(binding ? { binding } : {}), ...(line ? { line } : {}) };
  }

  function party(line: HostedLine): ForeignParty {
    return { network: "sip", uri: `sip:${line.owner.username}@${d.gatewayHost}`, name: line.name };
  }

  return { register, request, phoneFor, authenticateCall, party };
}
