import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CliServer, jsonLines, soriBackground, soriRunner, startCliServer } from "../cli-runner.ts";
import { SipPhone } from "../sip-phone.ts";
import { RawSipSocket } from "../sip-raw.ts";
import { answerSdp, reply, ToneLeg } from "../sip-callee.ts";
import { portBase } from "../port-base.ts";

const PASSWORD = "sip gateway cli password";
const sori = soriRunner(PASSWORD, 60_000);
const PHONE_BASE = portBase("sip-gateway-cli");

describe("sori sip-gateway: a phone calls a CLI user", () => {
  let dir: string;
  let server: CliServer;
  const profile = (name: string): string[] => ["--profile", join(dir, name)];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sori-sip-cli-"));
    server = await startCliServer(join(dir, "data"), ["--gateways", "gwphone"]);
    for (const name of ["gwphone", "clisip", "clidesk"]) {
      const r = await sori(["register", name, "--server", server.url, "--no-passphrase", ...profile(name)]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  /** `sori sip-gateway` as gwphone in the background, on a free port. */
  const startGateway = (extra: string[]): ReturnType<typeof soriBackground> =>
    soriBackground(
      PASSWORD,
      [
        "sip-gateway",
        "--listen",
        "udp:127.0.0.1:0",
        "--rtp-ports",
        "42000-42998",
        "--loopback",
        ...extra,
        ...profile("gwphone"),
      ],
      /listening on udp:/,
      90_000,
    );

  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sori answer hears the phone and says it is a phone call through the gateway; Ctrl-C stops the gateway", async () => {
    const gateway = startGateway([]);
    const phone = await SipPhone.start({ sipPort: PHONE_BASE, controlPort: PHONE_BASE + 2, toneHz: 1000 });
    let answer: ReturnType<typeof soriBackground> | undefined;
    try {
      const port = Number(/:(\d+)$/.exec(await gateway.ready)?.[1]);
      answer = soriBackground(
        PASSWORD,
        ["answer", "--auto", "--wait", "30", "--duration", "3", "--json", "--loopback", ...profile("clisip")],
        /waiting up to/,
        60_000,
      );
      await answer.ready;
      phone.dial(`sip:clisip@127.0.0.1:${port}`);
      // The phone's keypad once the call is up: the keys come back in the result line, in order. (If
      // `sori answer` ends first, its output below says why.)
      const up = await Promise.race([
        phone.waitEvent("CALL_ESTABLISHED", 45_000).then(() => true),
        answer.done.then(() => false),
      ]);
      if (up) phone.command("sndcode", "42#");
      const run = await answer.done;
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const line = jsonLines(run.stdout).at(-1) as {
        state: string;
        packetsReceived: number;
        dtmf: string;
        via?: { network: string; uri: string };
      };
      assert.equal(line.state, "ended");
      assert.equal(line.dtmf, "42#");
      assert.deepEqual(line.via, { network: "sip", uri: "sip:phone@127.0.0.1" });
      assert.ok(line.packetsReceived > 50, `audio from the phone (${line.packetsReceived} packets)`);
      await phone.waitEvent("CALL_CLOSED");
      gateway.interrupt();
      const stopped = await gateway.done;
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stderr, /"event":"sip-call-answered"/);
      assert.doesNotMatch(stopped.stderr, /v=0|PCMU\/8000|a=rtpmap/, "no SDP or SIP bodies in the log");
    } finally {
      // A failed run must not leave `sori answer` holding the profile for the next test.
      answer?.interrupt();
      gateway.interrupt();
      await phone.stop();
      await gateway.done;
      await answer?.done;
    }
  });

  it("sori call sip:… --gateway calls a phone for an account the gateway allows; without --gateway it says what is missing", async () => {
    const bare = await sori(["call", "sip:carol@127.0.0.1:5999", ...profile("clisip")]);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /pass --gateway <username>/);
    const gateway = startGateway(["--outbound", "clisip"]);
    const phone = await SipPhone.start({
      sipPort: PHONE_BASE + 4,
      controlPort: PHONE_BASE + 6,
      toneHz: 1000,
      user: "carol",
      autoAnswer: true,
    });
    try {
      await gateway.ready;
      const calling = sori([
        "call",
        `sip:carol@127.0.0.1:${PHONE_BASE + 4}`,
        "--gateway",
        "gwphone",
        "--duration",
        "3",
        "--keys",
        "9#",
        "--loopback",
        ...profile("clisip"),
      ]);
      await phone.waitEvent("CALL_ESTABLISHED", 20_000);
      // The phone has answered, but the Sori leg connects after that (accept, ICE, DTLS): keys
      // pressed before it is up have nowhere to go. A second is ample on loopback (~0.3 s).
      await new Promise((r) => setTimeout(r, 1000));
      phone.command("sndcode", "7*");
      const run = await calling;
      assert.equal(run.code, 0, run.stdout + run.stderr);
      // Without --json: who is called through which gateway, each key on a line of its own, a summary.
      assert.match(run.stdout, /^calling sip:carol@127\.0\.0\.1:\d+ via gwphone \(not end-to-end encrypted/m);
      // In order, though "sent keys" (the other way, at its own time) may come between them.
      assert.deepEqual(
        run.stdout.split("\n").filter((l) => l.startsWith("key ")),
        ["key 7", "key *"],
      );
      // --keys went to the phone, each key one event.
      assert.match(run.stdout, /^sent keys 9#$/m);
      assert.deepEqual(
        phone.events.filter((e) => e.type === "CALL_DTMF_START").map((e) => e.param),
        ["9", "#"],
      );
      const received = Number(
        /^call ended after \d+ s; RTP packets sent \d+, received (\d+)$/m.exec(run.stdout)?.[1],
      );
      assert.ok(received > 50, `audio from the phone (${received} packets)`);
      await phone.waitEvent("CALL_CLOSED");
    } finally {
      gateway.interrupt();
      await phone.stop();
      await gateway.done;
    }
  });

  it("sori call says when the phone network plays early media: a state line, and earlyMedia in --json", async () => {
    const gateway = startGateway(["--outbound", "clisip"]);
    const sip = await RawSipSocket.open();
    const tone = await ToneLeg.open();
    const startsWith = (prefix: string) => (m: string) => m.startsWith(prefix);
    const call = (json: boolean): ReturnType<typeof sori> =>
      sori([
        "call",
        `sip:ivr@127.0.0.1:${sip.port}`,
        "--gateway",
        "gwphone",
        "--duration",
        "1",
        "--loopback",
        ...(json ? ["--json"] : []),
        ...profile("clisip"),
      ]);
    /** The number's network answers the gateway's INVITE 183 with SDP and plays a tone to it. */
    const progress = async (): Promise<string> => {
      const invite = await sip.next(startsWith("INVITE "), 30_000);
      sip.send(reply(invite, "183 Session Progress", { toTag: "ivr1", body: answerSdp(tone.port) }), port);
      tone.play(1000, Number(/^m=audio (\d+)/m.exec(invite)?.[1]));
      return invite;
    };
    let port = 0;
    try {
      port = Number(/:(\d+)$/.exec(await gateway.ready)?.[1]);
      // Refused after the announcement: the text shows the early media, then busy.
      const refused = call(false);
      const first = await progress();
      await new Promise((r) => setTimeout(r, 1500));
      sip.send(reply(first, "486 Busy Here", { toTag: "ivr1" }), port);
      const text = await refused;
      assert.equal(text.code, 1, text.stdout + text.stderr);
      assert.match(text.stdout, /^call early-media \(the phone network plays audio; not answered yet\)$/m);
      assert.match(text.stdout, /^call ended \(busy\)$/m);
      // Answered after it: the result line says early media was heard, and packets came before the answer too.
      const answered = call(true);
      const second = await progress();
      await new Promise((r) => setTimeout(r, 1500));
      sip.send(reply(second, "200 OK", { toTag: "ivr1", body: answerSdp(tone.port), port: sip.port }), port);
      await sip.next(startsWith("ACK "), 10_000);
      await sip.next(startsWith("BYE "), 20_000);
      const run = await answered;
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const line = jsonLines(run.stdout).at(-1) as {
        state: string;
        earlyMedia: boolean;
        packetsReceived: number;
      };
      assert.equal(line.state, "ended");
      assert.equal(line.earlyMedia, true);
      assert.ok(
        line.packetsReceived > 75,
        `early media and the call's audio (${line.packetsReceived} packets)`,
      );
    } finally {
      tone.close();
      sip.close();
      gateway.interrupt();
      await gateway.done;
    }
  });

  it("sori call on a terminal: typed keys reach the phone, hold and resume re-INVITE it; a bad --keys is a usage error", async () => {
    const bad = await sori([
      "call",
      "sip:carol@127.0.0.1:5999",
      "--gateway",
      "gwphone",
      "--keys",
      "12x",
      ...profile("clisip"),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--keys: DTMF tones are 0-9, \*, #, A-D/);
    const gateway = startGateway(["--outbound", "clisip"]);
    const phone = await SipPhone.start({
      sipPort: PHONE_BASE + 8,
      controlPort: PHONE_BASE + 10,
      toneHz: 1000,
      user: "carol",
      autoAnswer: true,
    });
    try {
      await gateway.ready;
      // In this process, with a terminal whose lines come 1.5 s apart once the call listens.
      const { memoryIo, run } = await import("@sori/cli");
      const m = memoryIo({
        env: { SORI_PASSWORD: PASSWORD },
        stdin: ["5#", "hold", "resume", "what"],
        stdinIsTty: true,
        lineDelayMs: 1500,
      });
      const code = await run(
        [
          "call",
          `sip:carol@127.0.0.1:${PHONE_BASE + 8}`,
          "--gateway",
          "gwphone",
          "--duration",
          "8",
          "--loopback",
          ...profile("clisip"),
        ],
        m.io,
      );
      assert.equal(code, 0, m.stdout() + m.stderr());
      assert.match(
        m.stdout(),
        /^call connected\ntype keys \(0-9, \*, #, A-D\) and Enter to send them; hold or resume$/m,
      );
      assert.match(m.stdout(), /^sent keys 5#\ncall on hold \(by you\)\ncall resumed \(by you\)$/m);
      assert.match(m.stderr(), /^sori: not keys: what \(0-9, \*, #, A-D, hold, resume\)$/m);
      assert.deepEqual(
        phone.events.filter((e) => e.type === "CALL_DTMF_START").map((e) => e.param),
        ["5", "#"],
      );
      await phone.waitEvent("CALL_CLOSED");
    } finally {
      gateway.interrupt();
      await phone.stop();
    }
    const { stderr } = await gateway.done;
    // The gateway told the phone: its re-INVITEs were answered (baresip takes hold and resume).
    assert.match(stderr, /"event":"sip-sori-held"[^\n]*\n(.*\n)*.*"event":"sip-sori-resumed"/);
  });

  it("sori sip-phone add prints what the phone registers with; the phone calls as its owner; remove revokes it", async () => {
    // clisip and clidesk share a chat, so clidesk's profile (and the line in it) reaches clisip.
    const sent = await sori(["send", "clidesk", "hi", ...profile("clisip")]);
    assert.equal(sent.code, 0, sent.stderr);
    const joined = await sori(["receive", "--wait", "5", ...profile("clidesk")]);
    assert.equal(joined.code, 0, joined.stderr);
    const gateway = startGateway(["--sip-digest", "md5"]);
    let phone: SipPhone | undefined;
    try {
      const port = Number(/:(\d+)$/.exec(await gateway.ready)?.[1]);
      const added = await sori([
        "sip-phone",
        "add",
        "--gateway",
        "gwphone",
        "--name",
        "desk",
        "--json",
        ...profile("clidesk"),
      ]);
      assert.equal(added.code, 0, added.stdout + added.stderr);
      const settings = jsonLines(added.stdout)[0] as {
        aor: string;
        authUser: string;
        password: string;
        registrar: string;
      };
      assert.equal(settings.aor, `sip:clidesk@127.0.0.1:${port}`);
      assert.equal(statSync(join(dir, "gwphone", "sip-lines.json")).mode & 0o777, 0o600);
      const listed = await sori(["sip-phone", "--json", ...profile("clidesk")]);
      assert.deepEqual(
        jsonLines(listed.stdout).map((l) => (l as { name: string }).name),
        ["desk"],
      );
      phone = await SipPhone.start({
        sipPort: PHONE_BASE + 12,
        controlPort: PHONE_BASE + 14,
        toneHz: 1000,
        line: settings,
      });
      const answer = soriBackground(
        PASSWORD,
        ["answer", "--auto", "--wait", "30", "--duration", "1", "--json", "--loopback", ...profile("clisip")],
        /waiting up to/,
        60_000,
      );
      await answer.ready;
      // The phone registers at start; a call a moment later goes out with its credentials.
      await new Promise((r) => setTimeout(r, 1000));
      phone.dial(`sip:clisip@127.0.0.1:${port}`);
      const run = await answer.done;
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const line = jsonLines(run.stdout).at(-1) as {
        lineOwner?: { username: string };
        via?: { name?: string };
      };
      assert.equal(line.lineOwner?.username, "clidesk");
      assert.equal(line.via?.name, "desk");
      const removed = await sori(["sip-phone", "remove", "desk", ...profile("clidesk")]);
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /removed phone line "desk"/);
      const none = await sori(["sip-phone", ...profile("clidesk")]);
      assert.match(none.stderr, /no phone lines/);
      gateway.interrupt();
      const stopped = await gateway.done;
      assert.match(stopped.stderr, /"event":"sip-line-removed"/);
      assert.ok(!stopped.stderr.includes(settings.password), "no password in the gateway's log");
      assert.ok(!added.stderr.includes(settings.password), "the password only on stdout");
    } finally {
      gateway.interrupt();
      await phone?.stop();
      await gateway.done;
    }
  });
});
