import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const BARESIP = process.env.SORI_BARESIP ?? "/usr/bin/baresip";

/** A baresip event as ctrl_tcp reports it (CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED, …). */
export type PhoneEvent = { type: string; param?: string; peeruri?: string };

/**
 * Debian's baresip as a phone on 127.0.0.1: a sine tone as its microphone, what it decodes saved as
 * WAV files (the sndfile module), driven over its ctrl_tcp socket. Every instance is stopped by
 * `stop()`; ports are the caller's (space them apart: TLS would take sipPort + 1).
 */
export class SipPhone {
  readonly dir: string;
  readonly events: PhoneEvent[] = [];
  readonly #child: ChildProcess;
  readonly #control: Socket;
  #buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  #exited = false;

  private constructor(dir: string, child: ChildProcess, control: Socket) {
    this.dir = dir;
    this.#child = child;
    this.#control = control;
    child.once("exit", () => {
      this.#exited = true;
    });
    control.on("data", (chunk) => this.#data(chunk));
    control.on("error", () => undefined);
  }

  static async start(o: {
    sipPort: number;
    controlPort: number;
    toneHz: number;
    /** e.g. "PCMU/8000/1" (the default), or "opus/48000/2". */
    codecs?: string;
    user?: string;
    /** Answer incoming calls at once (else they ring until accept or hangup). */
    autoAnswer?: boolean;
    /** Register as a Sori user's phone line (what `sori sip-phone add` printed): digest auth, MD5. */
    line?: { aor: string; authUser: string; password: string };
    /** Register the line over TCP (`;transport=tcp` on its URI); calls dialled pick their own. */
    transport?: "udp" | "tcp";
  }): Promise<SipPhone> {
    const dir = mkdtempSync(join(tmpdir(), "sori-phone-"));
    mkdirSync(join(dir, "snd"));
    writeFileSync(
      join(dir, "config"),
      [
        "poll_method epoll",
        `sip_listen 127.0.0.1:${o.sipPort}`,
        "net_interface 127.0.0.1",
        `audio_source ausine,${o.toneHz}`,
        // ausine makes only 48 kHz stereo; baresip resamples to the codec's rate.
        "ausrc_srate 48000",
        "ausrc_channels 2",
        "audio_player aubridge,nil-x",
        "audio_alert aubridge,nil-x",
        "module_path /usr/lib/baresip/modules",
        "module g711.so",
        "module g722.so",
        "module opus.so",
        "module ausine.so",
        "module aubridge.so",
        "module sndfile.so",
        "module_app account.so",
        "module_app menu.so",
        "module_app ctrl_tcp.so",
        `ctrl_tcp_listen 127.0.0.1:${o.controlPort}`,
        `snd_path ${join(dir, "snd")}`,
        "",
      ].join("\n"),
    );
    const account = o.line
      ? `<${o.line.aor}${o.transport === "tcp" ? ";transport=tcp" : ""}>;auth_user=${o.line.authUser};auth_pass=${o.line.password};regint=600`
      : `<sip:${o.user ?? "phone"}@127.0.0.1>;regint=0`;
    writeFileSync(
      join(dir, "accounts"),
      `${account};audio_codecs=${o.codecs ?? "PCMU/8000/1"}${o.autoAnswer ? ";answermode=auto" : ""}\n`,
    );
    const child = spawn(BARESIP, ["-f", dir], { stdio: ["ignore", "pipe", "pipe"] });
    const log: string[] = [];
    child.stdout?.on("data", (d: Buffer) => {
      log.push(d.toString());
      if (process.env.SORI_PHONE_TRACE) process.stderr.write(`phone: ${d.toString()}`);
    });
    child.stderr?.on("data", (d: Buffer) => {
      log.push(d.toString());
      if (process.env.SORI_PHONE_TRACE) process.stderr.write(`phone! ${d.toString()}`);
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const socket = await new Promise<Socket | undefined>((resolve) => {
        const s = createConnection(o.controlPort, "127.0.0.1");
        s.once("connect", () => resolve(s));
        s.once("error", () => resolve(undefined));
      });
      if (socket) return new SipPhone(dir, child, socket);
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`baresip did not start: ${log.join("").slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Forgets the events so far (each test then waits for its own). */
  clearEvents(): void {
    this.events.length = 0;
  }

  /** Sends a command (dial, hangup, accept, …). */
  command(command: string, params = ""): void {
    const json = JSON.stringify({ command, params, token: String(Date.now()) });
    this.#control.write(`${Buffer.byteLength(json)}:${json},`);
  }

  dial(uri: string): void {
    this.command("dial", uri);
  }

  hangup(): void {
    this.command("hangup");
  }

  /** Waits (bounded) for an event of `type` not yet taken; returns it. */
  async waitEvent(type: string, timeoutMs = 10_000): Promise<PhoneEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((e) => e.type === type);
      if (i >= 0) return this.events.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no ${type} from the phone (saw ${this.events.map((e) => `${e.type} ${e.param ?? ""}`).join(", ") || "nothing"})`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The decoded audio of the last call (baresip writes `*-dec.wav` per call). */
  decodedWav(): Buffer | undefined {
    const files = readdirSync(join(this.dir, "snd")).filter((f) => f.endsWith("-dec.wav"));
    const last = files.sort().at(-1);
    return last ? readFileSync(join(this.dir, "snd", last)) : undefined;
  }

  /** Kills the phone at once (a phone that loses power or network: no BYE). */
  vanish(): void {
    this.#child.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    this.#control.destroy();
    if (!this.#exited) {
      this.#child.kill("SIGTERM");
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.#child.kill("SIGKILL");
          resolve();
        }, 3000);
        this.#child.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  #data(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    // Netstrings: "<length>:<json>,".
    for (;;) {
      const colon = this.#buffer.indexOf(":");
      if (colon < 0) return;
      const length = Number(this.#buffer.subarray(0, colon).toString());
      if (this.#buffer.length < colon + 1 + length + 1) return;
      const json = this.#buffer.subarray(colon + 1, colon + 1 + length).toString();
      this.#buffer = this.#buffer.subarray(colon + 2 + length);
      try {
        const m = JSON.parse(json) as { event?: boolean; type?: string; param?: string; peeruri?: string };
        if (m.event && m.type) this.events.push({ type: m.type, param: m.param, peeruri: m.peeruri });
      } catch {
        // Not an event: ignore.
      }
      for (const w of this.#waiters.splice(0)) w();
    }
  }
}
