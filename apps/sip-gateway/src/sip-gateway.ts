import { randomBytes } from "node:crypto";
import type { Call, ForeignParty } from "@sori/sdk";
import { TokenBuckets } from "@sori/server";
import type { SipGateway, SipGatewayOptions } from "./sip-gateway-options.ts";
import { parse as parseSdp } from "sdp-transform";
import { type HostedLine, HostedLines } from "./lines/hosted-lines.ts";
import { LineAuth } from "./lines/line-auth.ts";
import { createLineDesk } from "./lines/line-desk.ts";
import { SipGatewayConfigError } from "./sip-gateway-config-error.ts";
import type { Bridged } from "./bridged.ts";
import { type DialTarget, outboundTarget, Trunk } from "./outbound-target.ts";
import { dialogKey, tag, withTag } from "./sip/dialog-ids.ts";
import { allowedBy } from "./account-policy.ts";
import { rateKey } from "./rate-key.ts";
import { answerChallenge } from "./sip/digest.ts";
import { BridgePlatform } from "./media/bridge-platform.ts";
import { PhoneRtpLeg } from "./media/phone-rtp.ts";
import {
  answerDirection,
  type PhoneMedia,
  readOfferCodecs,
  readPhoneSdp,
  readTelephoneEvent,
  receives,
  SdpError,
  writePhoneSdp,
} from "./media/phone-sdp.ts";
import { inDialogRequests } from "./in-dialog-requests.ts";
import { phoneAnswers } from "./early-media.ts";
import { createSoriHold } from "./sori-hold.ts";
import { createReinvites } from "./reinvites.ts";
import { formatBadRequest, type SipSource } from "./sip/sip-format.ts";
import {
  formatUri,
  headFailure,
  headerValue,
  parseContact,
  parseSip,
  splitList,
  type SipRequest,
  type SipResponse,
} from "./sip/sip-message.ts";
import {
  ClientTransactions,
  newBranch,
  type ServerTransaction,
  ServerTransactions,
  type TransactionIo,
} from "./sip/transactions.ts";
import { Registrar } from "./sip/registrar.ts";
import { openSipTransports, type SipListen } from "./transport/sip-transports.ts";

const ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER";
const SAVE_DELAY_MS = 1000;

/**
 * Starts the SIP side of the gateway: phones call Sori users (`sip:<username>@<gateway>`) and are
 * bridged into Sori calls made by the gateway's own device. Only the phone's leg is outside MLS.
 */
export async function startSipGateway(o: SipGatewayOptions): Promise<SipGateway> {
  // Read first: a broken line file must stop the start before anything is bound.
  const opened = await HostedLines.open(o.linesFile);
  const hosted = opened.lines;
  if (opened.skipped > 0) o.log.warn("sip-lines-skipped", { count: opened.skipped });
  const registrar = Registrar.fromJSON(hosted.savedBindings ?? { version: 1, bindings: [] }, Date.now(), {
    onSkip: () => o.log.warn("sip-registration-skipped", {}),
  });
  const auth = new LineAuth(hosted, o.realm ?? "sori", o.digestAlgorithms);
  const trunk = o.trunk ? new Trunk(o.trunk) : undefined;
  const bridge = new BridgePlatform({ loopback: o.loopback });
  o.client.calls.configure({
    platform: bridge.platform,
    maxCalls: o.maxCalls ?? 200,
    ...(o.ringTimeoutMs !== undefined ? { ringTimeoutMs: o.ringTimeoutMs } : {}),
    ...(o.loopback ? { useServerTurn: false } : {}),
  });
  const listen: readonly SipListen[] = "address" in o.listen ? [{ transport: "udp", ...o.listen }] : o.listen;
  if (listen.length === 0) throw new SipGatewayConfigError("the gateway needs at least one listener");
  if (new Set(listen.map((l) => l.transport)).size !== listen.length)
    throw new SipGatewayConfigError("one listener per transport (udp, tcp, tls)");
  if (listen.some((l) => l.transport === "tls") && !o.tls)
    throw new SipGatewayConfigError("a tls listener needs a certificate and key (tls: {cert, key})");
  const transports = await openSipTransports({
    listen,
    ...(o.tls ? { tls: o.tls } : {}),
    ...(o.tlsTrust ? { trustedCa: o.tlsTrust } : {}),
    ...(o.connectionLimits ? { limits: o.connectionLimits } : {}),
    log: o.log,
    handler: {
      message: (data, source) => receive(data, source),
      failed: (peer) => client.transportFailed(peer),
      unframable: (head, reason, status, source) => {
        stats.parseErrors++;
        return head === undefined ? undefined : formatBadRequest(headFailure(head, reason), source, status);
      },
    },
  });
  const ports = transports.ports;
  const port = ports.udp ?? ports.tcp ?? ports.tls ?? 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const io: TransactionIo = {
    send: (text, to) => transports.send(text, to),
    setTimer: (fn, ms) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
      return () => {
        clearTimeout(t);
        timers.delete(t);
      };
    },
  };
  const server = new ServerTransactions(io);
  const client = new ClientTransactions(io);
  const { sendAck, sendCancel, sendBye, dialogHeaders, contactHeader } = inDialogRequests({
    io,
    client,
    log: o.log,
    address: o.mediaAddress,
    ports,
  });
  const dialogs = new Map<string, Bridged>();
  const invites = new TokenBuckets(o.inviteBurst ?? 10, o.invitesPerSecond ?? 2);
  const stats = { callsTotal: 0, parseErrors: 0, rateLimited: 0, rtpDroppedEnded: 0, authFailures: 0 };
  const gatewayHost = `${o.mediaAddress}:${port}`;
  const localHosts = new Set(
    [o.mediaAddress, ...listen.map((l) => l.address), ...(o.domains ?? [])].map((h) => h.toLowerCase()),
  );
  const localPorts = new Set([ports.udp, ports.tcp, ports.tls].filter((p) => p !== undefined));
  // Registrations are saved at most once a second: a burst of refreshes is one write, not one each.
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  const saveNow = (): Promise<void> => {
    clearTimeout(saveTimer);
    saveTimer = undefined;
    return hosted
      .save(registrar.toJSON())
      .catch((e: unknown) => o.log.error("sip-lines-save-failed", { message: (e as Error).message }));
  };
  const saveLines = (): void => {
    saveTimer ??= setTimeout(() => void saveNow(), SAVE_DELAY_MS);
  };

  const desk = createLineDesk({
    hosted,
    registrar,
    auth,
    client: o.client,
    log: o.log,
    stats,
    gatewayHost,
    policy: o.phoneLines ?? "all",
    isLocal,
    keepUntil: (source, until) => transports.keepUntil(source, until),
    saveLines,
    endCalls: (lineId) => {
      for (const b of [...dialogs.values()]) if (b.lineId === lineId) abandon(b, 403);
    },
    tag,
  });
  const answers = phoneAnswers({ log: o.log, bridge });
  const reinvites = createReinvites({
    log: o.log,
    mediaAddress: o.mediaAddress,
    contactHeader,
    hangUp: (b) => {
      sendBye(b);
      end(b);
      b.call?.hangup();
    },
  });
  const soriHold = createSoriHold({
    log: o.log,
    io,
    client,
    requests: { sendAck, dialogHeaders, contactHeader },
    reinvites,
    allow: ALLOW,
  });
  const offLines = o.client.on("phone-line", (r) => {
    void desk
      .request(r)
      .catch((e: unknown) => o.log.error("sip-line-request-failed", { message: (e as Error).message }));
  });

  const offCalls = o.client.calls.on("incoming", (call) => {
    void callOut(call).catch((e: unknown) => {
      o.log.error("sip-call-out-failed", { message: (e as Error).message });
      call.decline({ reason: "unreachable" });
    });
  });

  /** One whole message from any transport (a datagram, or framed off a stream). */
  function receive(data: Buffer, source: SipSource): void {
    const m = parseSip(data);
    if (m.type === "invalid") {
      stats.parseErrors++;
      // At debug only: a flood must not become a flood of log lines (parseErrors counts them).
      o.log.debug("sip-bad-message", { from: source.address, transport: source.transport, code: m.code });
      // A method the gateway does not know is 501 even when its CSeq names another (RFC 4475's
      // mismatch02): what that method gets anyway, and what RFC 4475 prefers to a 400.
      const unknown = m.code === "cseq-method" && !ALLOW.split(", ").includes(m.method ?? "");
      const answer = unknown
        ? formatBadRequest(m, source, 501, [["Allow", ALLOW]])
        : formatBadRequest(m, source);
      if (answer) io.send(answer, source);
      return;
    }
    if (m.type === "response") {
      if (!client.receive(m)) repeatAck(m);
      return;
    }
    const arrival = server.receive(m, source);
    if (arrival.kind === "ack-2xx") return reinvites.ack(arrival.request, find(arrival.request));
    if (arrival.kind !== "new") return;
    void handle(arrival.tx).catch((e: unknown) => {
      o.log.error("sip-request-failed", { method: m.method, message: (e as Error).message });
      arrival.tx.respond(500);
    });
  }

  async function handle(tx: ServerTransaction): Promise<void> {
    const req = tx.request;
    if (req.maxForwards === 0 && req.method !== "OPTIONS") return tx.respond(483);
    // No SIP extension is required of this gateway's peers, and it supports none a request could
    // require: say which (RFC 3261 §8.2.2.3; never for CANCEL, whose INVITE already passed).
    const required =
      req.method === "CANCEL"
        ? []
        : req.headers.filter(([n]) => n === "Require").flatMap(([, v]) => splitList(v).map((t) => t.trim()));
    if (required.length > 0)
      return tx.respond(420, { toTag: tag(), headers: [["Unsupported", required.slice(0, 16).join(", ")]] });
    switch (req.method) {
      case "INVITE":
        return req.to.params.tag === undefined ? inbound(tx) : reinvites.reinvite(tx, find(req));
      case "CANCEL":
        return cancel(tx);
      case "BYE":
        return bye(tx);
      case "OPTIONS":
        // The same answer whatever the Request-URI names: nothing to learn about who exists.
        return tx.respond(200, {
          headers: [
            ["Allow", ALLOW],
            ["Accept", "application/sdp"],
          ],
        });
      case "REGISTER":
        return desk.register(tx);
      case "REFER":
        // Transfer away from the gateway would hand a Sori call to a stranger's address: refused,
        // and the call (if any) goes on as it was.
        return tx.respond(403, {
          headers: [
            ["Allow", ALLOW],
            ["Warning", '399 sori "call transfer is not supported by this gateway"'],
          ],
        });
      default:
        return tx.respond(501, { headers: [["Allow", ALLOW]] });
    }
  }

  async function inbound(tx: ServerTransaction): Promise<void> {
    const req = tx.request;
    if (invites.take(rateKey(tx.source.address)) > 0) {
      // Dropped without an answer: a reply (repeated until an ACK) to a spoofed source would make the
      // gateway an amplifier.
      stats.rateLimited++;
      return;
    }
    if (dialogs.size >= (o.maxCalls ?? 200)) return tx.respond(503, { headers: [["Retry-After", "5"]] });
    tx.respond(100);
    // Calls out of the gateway, and calls as a Sori user (their own phone), prove who they are.
    const caller = await desk.authenticateCall(tx);
    if (!caller) return;
    const line = caller.line;
    const dialled = req.uri.user;
    // A trunk's number for someone (--sip-trunk-inbound), else a Sori username.
    const username = dialled ? (trunk?.userFor(dialled) ?? dialled) : undefined;
    const user = username ? await o.client.findUser(username).catch(() => undefined) : undefined;
    // CANCELled (answered 487) while the user was looked up.
    if (tx.answered) return;
    if (!user || user.userId === o.client.userId) return tx.respond(404, { toTag: tag() });
    let media: PhoneMedia;
    try {
      media = readPhoneSdp(req.body);
    } catch (error) {
      const reason = error instanceof SdpError ? error.message : "the SDP could not be read";
      return tx.respond(488, { toTag: tag(), headers: [["Warning", `305 sori "${reason}"`]] });
    }
    if (media.codecs.length === 0)
      return tx.respond(488, {
        toTag: tag(),
        headers: [
          [
            "Warning",
            `305 sori "no codec to relay: offered ${media.offered.join(", ") || "none"}; the gateway relays Opus, G.722, PCMU and PCMA"`,
          ],
        ],
      });
    const rtp = await PhoneRtpLeg.open(o.mediaAddress, o.rtpPorts).catch(() => undefined);
    if (!rtp) return tx.respond(503, { toTag: tag() });
    if (tx.answered) return rtp.close();
    rtp.connect({ address: media.address, port: media.port }, tx.source.address);
    const localTag = tag();
    const contact = headerValue(req, "Contact");
    const contactUri = contact ? parseContact(contact)?.uri : undefined;
    const b = open({
      direction: "in",
      callId: req.callId,
      localTag,
      remoteTag: req.from.params.tag ?? "",
      invite: tx,
      phone: tx.source,
      remoteUri: headerValue(req, "From") ?? "",
      localUri: withTag(headerValue(req, "To") ?? "", localTag),
      target: formatUri(contactUri ?? req.from.uri),
      lineId: line?.id,
      remoteSeq: req.cseq.seq,
      leg: {
        rtp,
        codecs: media.codecs,
        phonePayloadType: undefined,
        // Offered to the Sori side with the phone's number; kept only if both legs take it.
        telephoneEvent: media.telephoneEvent,
        phoneTelephoneEvent: undefined,
        phoneDirection: media.direction,
        early: false,
        soriHeld: false,
      },
      media,
      call: undefined,
    });
    o.log.info("sip-call-in", { callId: b.callId, to: user.userId, ...(line ? { line: line.id } : {}) });
    // Someone's own phone calls as them: the callee's device checks the claim against their profile.
    const via: ForeignParty = line
      ? { ...desk.party(line), line: { owner: line.owner.userId, id: line.id } }
      : {
          network: "sip",
          uri: formatUri({ ...req.from.uri, params: {} }),
          ...(req.from.displayName ? { name: req.from.displayName.slice(0, 128) } : {}),
        };
    let call: Call;
    try {
      call = await o.client.calls.start(user.username, {
        via,
        prepare: (c) => bridge.bind(c.id, b.leg),
      });
    } catch (error) {
      o.log.warn("sip-call-start-failed", { callId: b.callId, message: (error as Error).message });
      end(b);
      return tx.respond(480, { toTag: b.localTag });
    }
    b.call = call;
    if (b.state === "ended" || tx.answered) {
      // CANCELled while the Sori call was being set up.
      end(b);
      call.hangup();
      return;
    }
    if (call.state === "ended") {
      // The call could not even ring (no peer connection, no offer).
      end(b);
      return tx.respond(480, { toTag: b.localTag });
    }
    tx.respond(180, { toTag: b.localTag, headers: contactHeader(b) });
    call.on("remote-media", (m) => soriHold.changed(b, m.held));
    call.on("state", () => {
      if (call.state === "connected" && b.state === "ringing") answered(b);
      if (call.state === "ended") soriEnded(b, call);
    });
  }

  /** A Sori user rings the gateway to call a phone (`via` names it) or someone's line: INVITE it and bridge. */
  async function callOut(call: Call): Promise<void> {
    if (call.lines) return ringLines(call, call.lines);
    const via = call.via;
    if (!via) {
      o.log.info("sip-call-refused", { reason: "not-a-phone-call" });
      return call.decline();
    }
    if (!allowedBy(o.outbound ?? "none", call.peer.username)) {
      o.log.warn("sip-outbound-refused", { user: call.peer.userId });
      return call.decline();
    }
    const target = await outboundTarget(via.uri, trunk);
    if ("refused" in target) {
      o.log.info("sip-call-out-unroutable", { reason: target.refused });
      return call.decline({ reason: "unreachable" });
    }
    return dial(call, { ...target, line: undefined });
  }

  /**
   * Someone calls a person who has phone lines here: ring the phone registered last among them. (One
   * phone: forking one Sori call to several INVITEs is not done yet.)
   */
  async function ringLines(call: Call, refs: NonNullable<Call["lines"]>): Promise<void> {
    const { binding, line } = desk.phoneFor(refs);
    if (!binding || !line) {
      o.log.info("sip-line-not-registered", { lines: refs.length });
      return call.decline({ reason: "unreachable" });
    }
    // Behind NAT only the address the REGISTER came from reaches the phone; the Contact is its name.
    return dial(call, {
      uri: binding.contact,
      to: `<${desk.party(line).uri}>`,
      destination: binding.source,
      line,
    });
  }

  /** INVITEs a phone for the Sori call ringing here and bridges the two once it answers. */
  async function dial(call: Call, t: DialTarget & { line: HostedLine | undefined }): Promise<void> {
    const offer = call.remoteOffer
      ? readOfferCodecs(call.remoteOffer)
      : { codecs: [], telephoneEvent: undefined };
    const codecs = offer.codecs;
    if (codecs.length === 0) return call.decline({ reason: "unreachable" });
    const rtp = await PhoneRtpLeg.open(o.mediaAddress, o.rtpPorts).catch(() => undefined);
    if (!rtp) return call.decline({ reason: "unreachable" });
    // The caller may have given up during the look-ups: then no INVITE goes out at all.
    if (call.state === "ended") return rtp.close();
    const localTag = tag();
    const caller = call.peer.username;
    const uri = t.uri;
    const b = open({
      direction: "out",
      callId: `${randomBytes(12).toString("hex")}@sori`,
      localTag,
      remoteTag: "",
      invite: undefined,
      phone: t.destination,
      remoteUri: t.to,
      localUri: `"${caller.replace(/["\\]/g, "")}" <sip:${t.from?.user ?? caller}@${t.from?.host ?? gatewayHost}>;tag=${localTag}`,
      target: uri,
      lineId: t.line?.id,
      remoteSeq: undefined,
      leg: {
        rtp,
        codecs,
        phonePayloadType: undefined,
        telephoneEvent: offer.telephoneEvent,
        phoneTelephoneEvent: undefined,
        phoneDirection: "sendrecv",
        early: false,
        soriHeld: false,
      },
      media: {
        address: t.destination.address,
        port: 0,
        direction: "sendrecv",
        codecs,
        telephoneEvent: undefined,
        offered: [],
      },
      call,
    });
    o.log.info("sip-call-out", {
      callId: b.callId,
      from: call.peer.userId,
      ...(t.line ? { line: t.line.id } : {}),
    });
    call.on("state", () => {
      if (call.state === "ended") soriEnded(b, call);
    });
    call.on("remote-media", (m) => soriHold.changed(b, m.held));
    b.sdp = writePhoneSdp({
      address: o.mediaAddress,
      port: rtp.port,
      codecs,
      // The Sori caller's number for it: a phone that answers with the same one needs no mapping.
      telephoneEvent: offer.telephoneEvent,
      sessionId: Date.now(),
      version: 1,
    });
    let answer: SipResponse;
    let authorization: [string, string] | undefined;
    for (let seq = 1; ; seq++) {
      const branch = newBranch();
      b.outgoing = { branch, uri, to: b.remoteUri, seq };
      b.localSeq = seq;
      try {
        answer = await client.request(
          {
            method: "INVITE",
            uri,
            headers: [
              ...dialogHeaders(b, branch, b.remoteUri, `${seq} INVITE`),
              ...contactHeader(b),
              ["Allow", ALLOW],
              ...(authorization ? [authorization] : []),
            ],
            body: b.sdp,
          },
          branch,
          b.phone,
          (r) => answers.provisional(b, r),
        );
      } catch {
        // No final answer in time (timer B, or timer C while it rang): stop the phone ringing too.
        o.log.info("sip-call-out-unanswered", { callId: b.callId });
        if (b.state !== "ringing") return;
        sendCancel(b);
        end(b);
        return call.decline({ reason: "unreachable" });
      }
      if (answer.status < 300) break;
      // The INVITE transaction acknowledges a failure itself, on the INVITE's branch.
      sendAck(b, answer, branch);
      const challenged = answer.status === 401 || answer.status === 407;
      // A trunk's challenge is answered once; the same Call-ID and From tag, the next CSeq (RFC 3261 §22.2).
      if (challenged && t.credentials && !authorization && b.state === "ringing") {
        const asked = answer.status === 401 ? "WWW-Authenticate" : "Proxy-Authenticate";
        const value = answerChallenge(
          answer.headers.filter(([n]) => n === asked).map(([, v]) => v),
          { ...t.credentials, method: "INVITE", uri },
        );
        if (value) {
          authorization = [answer.status === 401 ? "Authorization" : "Proxy-Authorization", value];
          continue;
        }
      }
      if (challenged || (answer.status === 403 && authorization))
        o.log.warn("sip-trunk-auth-failed", { callId: b.callId, status: answer.status });
      break;
    }
    if (answer.status >= 300) {
      o.log.info("sip-call-out-refused", { callId: b.callId, status: answer.status });
      if (b.state !== "ringing") return end(b);
      // Ended first: the INVITE is over, so the Sori side's end must not send a CANCEL.
      end(b);
      if (answer.status === 486 || answer.status === 600) return call.decline({ reason: "busy" });
      if (answer.status === 603 || answer.status === 487 || (answer.status === 403 && !authorization))
        return call.decline();
      return call.decline({ reason: "unreachable" });
    }
    b.remoteTag = answer.to.params.tag ?? "";
    b.remoteUri = headerValue(answer, "To") ?? b.remoteUri;
    const contact = headerValue(answer, "Contact");
    const contactUri = contact ? parseContact(contact)?.uri : undefined;
    if (contactUri) b.target = formatUri(contactUri);
    sendAck(b, answer, newBranch());
    if (b.state !== "ringing") return sendBye(b);
    // The dialog is confirmed: from here on ending it is a BYE, whatever the Sori side is doing.
    b.state = "connected";
    watchRtp(b);
    const taken = await answers.final(b, answer);
    if (b.state !== "connected") return;
    if ("refused" in taken) {
      o.log.info(taken.refused === "no-codec" ? "sip-call-out-no-codec" : "sip-call-out-codec-changed", {
        callId: b.callId,
      });
      sendBye(b);
      end(b);
      return call.decline({ reason: "unreachable" });
    }
    const media = b.media;
    bridge.bind(call.id, b.leg);
    o.log.info("sip-call-out-answered", {
      callId: b.callId,
      codec: taken.codec.name,
      dtmf: b.leg.phoneTelephoneEvent !== undefined,
    });
    await call.accept(
      t.line ? { via: { ...desk.party(t.line), line: { owner: t.line.owner.userId, id: t.line.id } } } : {},
    );
    // A phone that answers on hold (rare): the caller hears so at once.
    if (!receives(media.direction)) void call.setOnHold(true);
  }

  /** How a line shows on the Sori side: its owner's address at the gateway and the line's name. */
  function isLocal(uri: { host: string; port: number | undefined }): boolean {
    return localHosts.has(uri.host.toLowerCase()) && (uri.port === undefined || localPorts.has(uri.port));
  }

  /** Ends a dialog from the gateway's side, whatever state it is in; a ringing phone call hears `status`. */
  function abandon(b: Bridged, status: number): void {
    if (b.state === "connected") sendBye(b);
    else if (b.invite) b.invite.respond(status, { toTag: b.localTag });
    else sendCancel(b);
    end(b);
    b.call?.hangup();
  }

  /** A 2xx to our INVITE or re-INVITE came again (our ACK was lost): acknowledge it again. */
  function repeatAck(r: SipResponse): void {
    if (r.cseq.method !== "INVITE" || r.status < 200 || r.status >= 300) return;
    const local = r.from.params.tag;
    const b = local ? dialogs.get(dialogKey(r.callId, local)) : undefined;
    if (b) sendAck(b, r, newBranch(), r.cseq.seq);
  }

  function answered(b: Bridged): void {
    const invite = b.invite;
    if (!invite) return;
    const chosen = chosenCodec(b);
    if (!chosen) {
      b.call?.hangup();
      invite.respond(488, { toTag: b.localTag });
      return end(b);
    }
    b.leg.phonePayloadType = chosen.payloadType;
    // DTMF when the Sori side answered the phone's telephone-event/8000 too, for G.711/G.722 only
    // (beside Opus's 48 kHz clock it is not relayed).
    const soriSdp = b.call ? bridge.remoteSdp(b.call.id) : undefined;
    const events =
      chosen.mimeType !== "audio/opus" &&
      b.media.telephoneEvent !== undefined &&
      soriSdp !== undefined &&
      readTelephoneEvent(soriSdp) === b.media.telephoneEvent
        ? b.media.telephoneEvent
        : undefined;
    b.leg.phoneTelephoneEvent = events;
    // Not agreed by both legs: a re-INVITE later cannot bring DTMF in either (see reinvites.ts).
    if (events === undefined) b.leg.telephoneEvent = undefined;
    b.state = "connected";
    b.sdp = writePhoneSdp({
      address: o.mediaAddress,
      port: b.leg.rtp.port,
      codecs: [chosen],
      telephoneEvent: events,
      sessionId: Date.now(),
      version: 1,
      direction: answerDirection(b.media.direction),
    });
    // A phone that calls already on hold (rare): the Sori side hears so at once.
    if (!receives(b.media.direction)) void b.call?.setOnHold(true);
    invite.respond(200, { toTag: b.localTag, headers: contactHeader(b), body: b.sdp });
    o.log.info("sip-call-answered", { callId: b.callId, codec: chosen.name, dtmf: events !== undefined });
    watchRtp(b);
  }

  /** Ends both sides when the phone's RTP stops (it lost power or network, without a BYE). */
  function watchRtp(b: Bridged): void {
    const timeout = o.rtpTimeoutMs ?? 30_000;
    // Only a conversation is watched: a phone on hold (or one-way) may be silent by right, even one
    // that said sendonly (not every phone has music on hold).
    let quietSince = Date.now();
    b.rtpWatch = setInterval(
      () => {
        if (b.leg.phoneDirection !== "sendrecv") quietSince = Date.now();
        const last = Math.max(b.leg.rtp.stats.lastReceivedAt ?? 0, quietSince);
        if (Date.now() - last < timeout) return;
        o.log.info("sip-rtp-timeout", { callId: b.callId });
        sendBye(b);
        end(b);
        b.call?.hangup();
      },
      Math.min(5000, timeout / 2),
    );
  }

  /** The codec the Sori side answered with (the first of the audio m-line in its answer). */
  function chosenCodec(b: Bridged): (typeof b.media.codecs)[number] | undefined {
    const sdp = b.call ? bridge.remoteSdp(b.call.id) : undefined;
    if (!sdp) return undefined;
    const audio = parseSdp(sdp).media?.find((m) => m.type === "audio");
    const first = Number(String(audio?.payloads ?? "").split(" ")[0]);
    return b.media.codecs.find((c) => c.payloadType === first);
  }

  function soriEnded(b: Bridged, call: Call): void {
    if (b.state === "ended") return;
    if (b.state === "ringing" && b.invite) {
      const status =
        { declined: 603, busy: 486, "no-answer": 480, cancelled: 487 }[call.endReason as string] ?? 480;
      b.invite.respond(status, { toTag: b.localTag });
      o.log.info("sip-call-not-answered", { callId: b.callId, reason: call.endReason });
    } else if (b.state === "ringing") {
      sendCancel(b);
      o.log.info("sip-call-cancelled", { callId: b.callId, by: "sori" });
    } else {
      sendBye(b);
      o.log.info("sip-call-ended", { callId: b.callId, by: "sori", reason: call.endReason });
    }
    end(b);
  }

  /** Registers a new dialog with what every dialog starts with. */
  function open(
    fields: Omit<
      Bridged,
      "outgoing" | "localSeq" | "state" | "sdp" | "rtpWatch" | "pendingOffer" | "early" | "soriHold"
    >,
  ): Bridged {
    const b: Bridged = {
      ...fields,
      outgoing: undefined,
      localSeq: 1,
      state: "ringing",
      sdp: undefined,
      rtpWatch: undefined,
      pendingOffer: undefined,
      early: undefined,
      soriHold: { wanted: false, told: false, inFlight: false, cancelRetry: undefined },
    };
    dialogs.set(dialogKey(b.callId, b.localTag), b);
    stats.callsTotal++;
    return b;
  }

  function end(b: Bridged): void {
    if (b.state === "ended" && !dialogs.has(dialogKey(b.callId, b.localTag))) return;
    b.state = "ended";
    if (b.rtpWatch) clearInterval(b.rtpWatch);
    b.soriHold.cancelRetry?.();
    stats.rtpDroppedEnded += b.leg.rtp.stats.dropped;
    b.leg.rtp.close();
    // A call that ended before its media started leaves its leg bound: let it go too.
    if (b.call) bridge.release(b.call.id);
    dialogs.delete(dialogKey(b.callId, b.localTag));
  }

  function find(req: SipRequest): Bridged | undefined {
    const local = req.to.params.tag;
    if (local) return dialogs.get(dialogKey(req.callId, local));
    // A CANCEL has no To tag: the INVITE it cancels does.
    for (const b of dialogs.values())
      if (b.callId === req.callId && b.remoteTag === (req.from.params.tag ?? "")) return b;
    return undefined;
  }

  function cancel(tx: ServerTransaction): void {
    const invite = server.inviteFor(tx.request);
    if (!invite || invite.answered) return tx.respond(481);
    tx.respond(200);
    // Possibly before the INVITE has a dialog (still being looked up): inbound() sees it answered.
    const b = find(tx.request);
    invite.respond(487, { toTag: b?.localTag ?? tag() });
    o.log.info("sip-call-cancelled", { callId: tx.request.callId });
    if (!b) return;
    end(b);
    b.call?.hangup();
  }

  function bye(tx: ServerTransaction): void {
    const b = find(tx.request);
    if (!b) return tx.respond(481);
    tx.respond(200);
    o.log.info("sip-call-ended", { callId: b.callId, by: "phone" });
    // Ended first, so the Sori side's hang-up does not send the phone a BYE of its own.
    end(b);
    b.call?.hangup();
  }

  return {
    port,
    ports: { ...ports },
    stats: () => ({
      callsActive: dialogs.size,
      callsTotal: stats.callsTotal,
      parseErrors: stats.parseErrors,
      rateLimited: stats.rateLimited,
      rtpDropped:
        stats.rtpDroppedEnded + [...dialogs.values()].reduce((n, b) => n + b.leg.rtp.stats.dropped, 0),
      lines: hosted.size,
      registrations: (registrar.sweep(Date.now()), registrar.size),
      authFailures: stats.authFailures,
      ...transports.stats(),
    }),
    async stop() {
      if (saveTimer) await saveNow();
      // A gateway started again on the same client must be the only one answering its calls.
      offCalls();
      offLines();
      for (const b of [...dialogs.values()]) abandon(b, 503);
      // The BYEs get one round trip before the socket goes.
      await new Promise((r) => setTimeout(r, 100));
      server.stop();
      client.stop();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await transports.close();
    },
  };
}
