import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { freePort } from "./child-server.ts";

export const PROSODY = process.env.SORI_PROSODY ?? "/usr/bin/prosody";
const PROSODYCTL = process.env.SORI_PROSODYCTL ?? "/usr/bin/prosodyctl";
export const EJABBERDCTL = process.env.SORI_EJABBERDCTL ?? "/usr/sbin/ejabberdctl";
/** The system user of Debian's ejabberd: ejabberdctl runs only as it (as root it would su to it). */
const EJABBERD_USER = "ejabberd";
/** Debian's python3 (python3-slixmpp lives there, not in another python on the PATH). */
const PYTHON = process.env.SORI_SLIXMPP_PYTHON ?? "/usr/bin/python3";
const USER_SCRIPT = resolve("tests/xmpp/xmpp-user.py");

/** An XMPP server on 127.0.0.1 with one virtual host, Sori's component and some users. */
export type XmppServer = {
  /** "prosody" or "ejabberd", for test names. */
  name: string;
  host: string;
  c2sPort: number;
  componentPort: number;
  componentDomain: string;
  secret: string;
  /** Stops it (SIGTERM, then SIGKILL after a while) and removes its files. */
  stop(): Promise<void>;
  /** Stops it, runs `whileDown`, and starts it again on the same ports and data. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Its log so far (to wait for what it noticed, and for a failing test's message). */
  log(): string;
};

function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** The handle both servers' starters return: stop and restart around their own boot and halt. */
function serverHandle(o: {
  name: string;
  logFile: string;
  dir: string;
  fields: Pick<XmppServer, "host" | "c2sPort" | "componentPort" | "componentDomain" | "secret">;
  boot(): Promise<void>;
  halt(): Promise<void>;
}): XmppServer {
  return {
    name: o.name,
    log: () => readLog(o.logFile),
    ...o.fields,
    stop: async () => {
      await o.halt();
      rmSync(o.dir, { recursive: true, force: true });
    },
    restart: async (whileDown) => {
      await o.halt();
      await whileDown?.();
      await o.boot();
    },
  };
}

/** Debian's Prosody (the first server the gateway was tested with). */
export type Prosody = XmppServer & {
  /** With `httpUpload`: its HTTP port, where mod_http_file_share (XEP-0363) takes and serves files. */
  httpPort?: number;
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
  /** More of Prosody's modules, e.g. "offline" (messages kept for users who are not online). */
  modules?: string[];
  /** More components with the same secret (a test's or benchmark's stanza source connects as one). */
  extraComponents?: string[];
  /** An XEP-0363 upload service, `upload.<host>` (mod_http_file_share), on a loopback HTTP port. */
  httpUpload?: { maxBytes: number };
}): Promise<Prosody> {
  const dir = mkdtempSync(join(tmpdir(), "sori-prosody-"));
  mkdirSync(join(dir, "data"));
  const c2sPort = await freePort();
  const componentPort = await freePort();
  const secret = "component-secret-for-tests";
  const httpPort = o.httpUpload ? await freePort() : undefined;
  const http = o.httpUpload
    ? [
        `http_ports = { ${httpPort} }`,
        'http_interfaces = { "127.0.0.1" }',
        "https_ports = { }",
        `http_external_url = "http://127.0.0.1:${httpPort}/"`,
        // Requests name 127.0.0.1 as their Host: they go to the upload service.
        `http_default_host = "upload.${o.host}"`,
      ]
    : [];
  const upload = o.httpUpload
    ? [
        `Component "upload.${o.host}" "http_file_share"`,
        `  http_file_share_size_limit = ${o.httpUpload.maxBytes}`,
      ]
    : [];
  const config = join(dir, "prosody.cfg.lua");
  writeFileSync(
    config,
    [
      "run_as_root = true",
      `pidfile = "${dir}/prosody.pid"`,
      `data_path = "${dir}/data"`,
      `log = { info = "${dir}/prosody.log" }`,
      `modules_enabled = { ${["roster", "saslauth", "disco", "ping", "posix", ...(o.modules ?? [])].map((m) => `"${m}"`).join(", ")} }`,
      'modules_disabled = { "s2s" }',
      `c2s_ports = { ${c2sPort} }`,
      'c2s_interfaces = { "127.0.0.1" }',
      "s2s_ports = { }",
      `component_ports = { ${componentPort} }`,
      'component_interfaces = { "127.0.0.1" }',
      "c2s_require_encryption = false",
      "allow_unencrypted_plain_auth = true",
      'authentication = "internal_hashed"',
      ...http,
      `VirtualHost "${o.host}"`,
      ...[o.componentDomain, ...(o.extraComponents ?? [])].flatMap((d) => [
        `Component "${d}"`,
        `  component_secret = "${secret}"`,
      ]),
      ...upload,
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
  if (httpPort !== undefined) await waitForPort(httpPort, 15_000);
  const handle = serverHandle({
    name: "prosody",
    logFile: join(dir, "prosody.log"),
    dir,
    fields: { host: o.host, c2sPort, componentPort, componentDomain: o.componentDomain, secret },
    boot,
    halt,
  });
  return httpPort === undefined ? handle : { ...handle, httpPort };
}

/**
 * Debian's ejabberd, configured by the test in a directory of its own: its own Mnesia spool, logs and
 * Erlang node name, a c2s and an `ejabberd_service` listener on free loopback ports, users made with
 * `ejabberdctl register`. What it needs here: ejabberdctl runs only as the `ejabberd` user (as root
 * it would `su`, which resets limits and uses that user's home), so it runs through setpriv as that
 * user, with the directory chowned to it and HOME in it (the Erlang cookie that `register` shares
 * with the node). Erlang distribution listens on a free loopback port without epmd (ERL_DIST_PORT),
 * so nothing outlives the test; the node's whole process group is stopped.
 */
export async function startEjabberd(o: {
  host: string;
  componentDomain: string;
  users: Record<string, string>;
  /** More modules, by Prosody's names for them ("offline": ejabberd's mod_offline). */
  modules?: string[];
}): Promise<XmppServer> {
  if (process.getuid?.() !== 0)
    throw new Error("the ejabberd tests run ejabberd as its own user, which needs root");
  const dir = mkdtempSync(join(tmpdir(), "sori-ejabberd-"));
  const conf = join(dir, "conf");
  for (const d of ["conf", "spool", "logs"]) mkdirSync(join(dir, d));
  const c2sPort = await freePort();
  const componentPort = await freePort();
  const distPort = await freePort();
  const secret = "component-secret-for-tests";
  writeFileSync(
    join(conf, "ejabberd.yml"),
    [
      "loglevel: info",
      "log_rotate_count: 0",
      `hosts: ["${o.host}"]`,
      "listen:",
      `  - { port: ${c2sPort}, ip: "127.0.0.1", module: ejabberd_c2s, starttls: false, max_stanza_size: 262144 }`,
      `  - port: ${componentPort}`,
      '    ip: "127.0.0.1"',
      "    module: ejabberd_service",
      "    hosts:",
      `      "${o.componentDomain}": { password: "${secret}" }`,
      "auth_method: internal",
      'acl: { local: { user_regexp: "" } }',
      "access_rules: { local: { allow: local }, c2s: { allow: all } }",
      "shaper_rules: { c2s_shaper: none, s2s_shaper: none }",
      "s2s_access: none",
      `modules: { ${["disco", "ping", "roster", ...(o.modules ?? [])].map((m) => `mod_${m}: {}`).join(", ")} }`,
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(conf, "ejabberdctl.cfg"),
    [
      `ERLANG_NODE=sori${process.pid}p${distPort}@localhost`,
      "INET_DIST_INTERFACE=127.0.0.1",
      `ERL_DIST_PORT=${distPort}`,
      'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"',
      "",
    ].join("\n"),
  );
  copyFileSync("/etc/ejabberd/inetrc", join(conf, "inetrc"));
  const owned = spawnSync("chown", ["-R", `${EJABBERD_USER}:${EJABBERD_USER}`, dir], { timeout: 10_000 });
  if (owned.status !== 0) throw new Error(`chown of the ejabberd directory failed: ${String(owned.stderr)}`);
  const ctl = [
    "setpriv",
    `--reuid=${EJABBERD_USER}`,
    `--regid=${EJABBERD_USER}`,
    "--init-groups",
    "env",
    `HOME=${dir}`,
    EJABBERDCTL,
    "--config-dir",
    conf,
    "--ctl-config",
    join(conf, "ejabberdctl.cfg"),
    "--spool",
    join(dir, "spool"),
    "--logs",
    join(dir, "logs"),
  ];
  let child: ChildProcess | undefined;
  let stderr = "";
  const boot = async (): Promise<void> => {
    // Its own process group: ejabberdctl is a shell whose Erlang VM (and helpers) stop with it.
    // Run from its own directory: the Erlang VM looks for modules in its working directory first, and
    // a checkout in a root-only directory (mktemp -d) refuses the ejabberd user even a look (eacces).
    child = spawn(ctl[0]!, [...ctl.slice(1), "foreground"], {
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
      cwd: dir,
    });
    child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + String(c)).slice(-4000)));
    try {
      await waitForPort(c2sPort, 30_000);
      await waitForPort(componentPort, 30_000);
    } catch (error) {
      await halt();
      throw new Error(`${(error as Error).message}; ejabberd said: ${stderr}`, { cause: error });
    }
  };
  const halt = async (): Promise<void> => {
    const c = child;
    if (!c?.pid) return;
    const group = -c.pid;
    const alive = (): boolean => {
      try {
        process.kill(group, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (alive()) process.kill(group, "SIGTERM");
    for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive()) process.kill(group, "SIGKILL");
    for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  };
  await boot();
  try {
    for (const [user, password] of Object.entries(o.users)) {
      const r = spawnSync(ctl[0]!, [...ctl.slice(1), "register", user, o.host, password], {
        timeout: 30_000,
        encoding: "utf8",
        cwd: dir,
      });
      if (r.status !== 0) throw new Error(`ejabberdctl register ${user} failed: ${r.stdout} ${r.stderr}`);
    }
  } catch (error) {
    await halt();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return serverHandle({
    name: "ejabberd",
    logFile: join(dir, "logs", "ejabberd.log"),
    dir,
    fields: { host: o.host, c2sPort, componentPort, componentDomain: o.componentDomain, secret },
    boot,
    halt,
  });
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
  /** A message's XEP-0066 link, as slixmpp's plugin read it. */
  oob?: string;
  /** "uploaded": the XEP-0363 link a file got; "upload-failed": why not. */
  url?: string;
  reason?: string;
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
