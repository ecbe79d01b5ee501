import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { freePort } from "./child-server.ts";

export const PROSODY = process.env.SORI_PROSODY ?? "/usr/bin/prosody";
const PROSODYCTL = process.env.SORI_PROSODYCTL ?? "/usr/bin/prosodyctl";
/** Debian's python3 (python3-slixmpp lives there, not in another python on the PATH). */
const PYTHON = process.env.SORI_SLIXMPP_PYTHON ?? "/usr/bin/python3";
const USER_SCRIPT = resolve("tests/xmpp/xmpp-user.py");

/** Debian's Prosody on 127.0.0.1 with one virtual host, Sori's component and some users. */
export type Prosody = {
  host: string;
  c2sPort: number;
  componentPort: number;
  componentDomain: string;
  secret: string;
  /** Stops it (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Stops it and starts it again on the same ports and data. */
  restart(): Promise<void>;
};

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        r(true);
      });
      s.once("error", () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startProsody(o: {
  host: string;
  componentDomain: string;
  users: Record<string, string>;
  /** More components with the same secret (a test's or benchmark's stanza source connects as one). */
  extraComponents?: string[];
}): Promise<Prosody> {
  const dir = mkdtempSync(join(tmpdir(), "sori-prosody-"));
  mkdirSync(join(dir, "data"));
  const c2sPort = await freePort();
  const componentPort = await freePort();
  const secret = "component-secret-for-tests";
  const config = join(dir, "prosody.cfg.lua");
  writeFileSync(
    config,
    [
      "run_as_root = true",
      `pidfile = "${dir}/prosody.pid"`,
      `data_path = "${dir}/data"`,
      `log = { info = "${dir}/prosody.log" }`,
      'modules_enabled = { "roster", "saslauth", "disco", "ping", "posix" }',
      'modules_disabled = { "s2s" }',
      `c2s_ports = { ${c2sPort} }`,
      'c2s_interfaces = { "127.0.0.1" }',
      "s2s_ports = { }",
      `component_ports = { ${componentPort} }`,
      'component_interfaces = { "127.0.0.1" }',
      "c2s_require_encryption = false",
      "allow_unencrypted_plain_auth = true",
      'authentication = "internal_hashed"',
      `VirtualHost "${o.host}"`,
      ...[o.componentDomain, ...(o.extraComponents ?? [])].flatMap((d) => [
        `Component "${d}"`,
        `  component_secret = "${secret}"`,
      ]),
      "",
    ].join("\n"),
  );
  for (const [user, password] of Object.entries(o.users)) {
    const r = spawnSync(PROSODYCTL, ["--config", config, "register", user, o.host, password], {
      timeout: 15_000,
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`prosodyctl register ${user} failed: ${r.stderr}`);
  }
  let child: ChildProcess | undefined;
  const boot = async (): Promise<void> => {
    child = spawn(PROSODY, ["--config", config, "-F"], { stdio: "ignore" });
    await waitForPort(componentPort, 15_000);
    await waitForPort(c2sPort, 15_000);
  };
  const halt = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise<void>((r) => c.once("exit", () => r()));
    c.kill("SIGTERM");
    const timer = setTimeout(() => c.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  };
  await boot();
  return {
    host: o.host,
    c2sPort,
    componentPort,
    componentDomain: o.componentDomain,
    secret,
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await halt();
      await boot();
    },
  };
}

/** An XML element as the XMPP user's script saw it (ElementTree): local name, namespace, text. */
export type XmlTree = {
  name: string;
  ns: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlTree[];
};

export type XmppEvent = {
  event: string;
  from?: string;
  to?: string;
  type?: string;
  id?: string;
  body?: string;
  receiptRequested?: boolean;
  error?: { condition: string; text?: string; type: string };
  /** A direct room invitation (XEP-0249): the room's JID. */
  invite?: string;
  /** A room's subject. */
  subject?: string;
  /** The message carried a delay stamp (XEP-0203): it was held back. */
  delayed?: boolean;
  /** MUC status codes of a room presence (110: yourself, 321: removed, …). */
  codes?: number[];
  /** "stanza": a message stanza as it arrived, as text and as a tree. */
  xml?: string;
  tree?: XmlTree;
  /** "feature": what slixmpp's own plugins made of a stanza (chatstate, displayed, correction, …). */
  feature?: string;
  state?: string;
  of?: string;
  values?: string[];
  author?: string;
};

/** An XMPP user on slixmpp (tests/xmpp/xmpp-user.py), online until `stop()`. */
export class XmppUser {
  readonly events: XmppEvent[] = [];
  readonly #child: ChildProcess;
  #waiters: (() => void)[] = [];
  #stderr = "";

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stderr!.on("data", (c: Buffer) => {
      this.#stderr = (this.#stderr + String(c)).slice(-4000);
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        this.events.push(JSON.parse(line) as XmppEvent);
      } catch {
        return;
      }
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async start(jid: string, password: string, port: number): Promise<XmppUser> {
    const child = spawn(PYTHON, [USER_SCRIPT, jid, password, "127.0.0.1", String(port)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const user = new XmppUser(child);
    await user.next((e) => e.event === "online", 15_000);
    return user;
  }

  send(command: Record<string, unknown>): void {
    this.#child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** The first event (past or future) that matches, within `timeoutMs`. */
  async next(match: (e: XmppEvent) => boolean, timeoutMs = 10_000): Promise<XmppEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no such XMPP event in ${timeoutMs} ms; saw ${JSON.stringify(this.events.slice(-5))}; stderr: ${this.#stderr.slice(-1500)}`,
        );
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  /**
   * Sends a presence of `type` to `to` (a bare JID): a subscription step (RFC 6121 §3), a probe, or
   * "available" for a directed presence. The XMPP server stamps it with this user's address.
   */
  presence(
    to: string,
    type: "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed" | "probe" | "available",
  ): void {
    const typeAttr = type === "available" ? "" : ` type="${type}"`;
    this.send({ op: "raw", xml: `<presence xmlns="jabber:client" to="${to}"${typeAttr}/>` });
  }

  /** Presence stanzas received so far from `from` (a bare JID; any resource). */
  presencesFrom(from: string): XmppEvent[] {
    return this.events.filter((e) => e.event === "presence" && e.from?.split("/")[0] === from);
  }

  /** Every chat message with a body received so far. */
  messages(): XmppEvent[] {
    return this.events.filter((e) => e.event === "message" && e.type !== "error" && e.body);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const gone = new Promise<void>((r) => this.#child.once("exit", () => r()));
    this.send({ op: "quit" });
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 3000);
    await gone;
    clearTimeout(timer);
  }
}

/**
 * A bare XEP-0114 component on `domain` that only writes stanzas as text: many senders at once
 * (`u1@load.test`, …) at next to no cost, for tests and benchmarks of what arrives elsewhere.
 */
export async function rawComponent(
  port: number,
  domain: string,
  secret: string,
): Promise<{ write(xml: string): void; close(): void }> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((ok, fail) => {
    socket.once("connect", ok);
    socket.once("error", fail);
  });
  socket.write(
    `<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams" to="${domain}">`,
  );
  let text = "";
  let answered = false;
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("the raw component's handshake timed out")), 10_000);
    socket.on("data", (chunk: Buffer) => {
      text += String(chunk);
      const id = /<stream:stream[^>]* id=['"]([^'"]+)['"]/.exec(text)?.[1];
      if (id && !answered) {
        answered = true;
        socket.write(
          `<handshake>${createHash("sha1")
            .update(id + secret)
            .digest("hex")}</handshake>`,
        );
      }
      if (/<handshake\s*\/>|<handshake><\/handshake>/.test(text)) {
        clearTimeout(timer);
        ok();
      }
    });
  });
  socket.removeAllListeners("data");
  socket.on("data", () => undefined);
  socket.on("error", () => undefined);
  return { write: (xml) => socket.write(xml), close: () => socket.destroy() };
}
