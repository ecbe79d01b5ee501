import { readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import {
  type Call,
  type ChatMessage,
  type ChatSummary,
  type ClientStorage,
  EncryptedStorage,
  SdkError,
  SoriClient,
} from "@sori/sdk";
import { FileStorage } from "@sori/sdk/node";
import { runServerCommand } from "@sori/server";
import qrcode from "qrcode-generator";
import { allowOptions, option, type ParsedArgs, parseArgs, UsageError } from "./args.ts";
import { saveDownload } from "./downloads.ts";
import { progressBar } from "./progress-bar.ts";
import type { CliIo } from "./cli-io.ts";
import { readPassphrase, readPassword } from "./password-prompt.ts";

const USAGE = `sori — end-to-end encrypted messenger (CLI)

usage:
  sori server [--host 127.0.0.1] [--port 8080] [--data ./sori-data]   run a server (sori server --help)
  sori register <username> --server <url> [--no-passphrase]
                                              create an account and this device (password: $SORI_PASSWORD
                                              or prompt; the profile is encrypted under $SORI_PASSPHRASE or a
                                              prompted passphrase unless --no-passphrase or none is given)
  sori login <username> --server <url>        add this profile as a new device of an existing account
  sori send <username|chat-id> <text>         send a message (a direct chat is created if needed)
  sori send <username|chat-id> --file <path> [caption]   send an encrypted attachment (progress bar on a TTY)
  sori receive [--wait <seconds>] [--json] [--download-dir <dir>]
                                              messages that arrived since the last receive; attachments
                                              are saved to <dir> (default <profile>/downloads)
  sori timer <chat-id|username> <seconds|off> disappearing-message timer for the chat
  sori safety-number <username> [--qr] [--verify] [--json]
                                              the safety number with a contact (--verify marks it verified)
  sori group create <name> --members <user,user,...>   create a group; prints its chat id
  sori group add <chat-id> <username>         add a member to a group
  sori group remove <chat-id> <username>      remove a member from a group
  sori chats [--json]                         list chats
  sori history <chat-id|username> [--json]    the local history of one chat
  sori devices [--json]                       this account's devices
  sori devices revoke <device-id>             sign out another device
  sori devices link                           show a code (and QR code) that signs a new device in
  sori link <code> --server <url>             make this profile a new device of the account that showed <code>
  sori logout                                 revoke this device and delete its local data
  sori call <username> [--video] [--duration <s>]   call someone; a generated tone is the microphone;
                                              hangs up --duration s after connecting (default 10)
  sori answer [--auto|--decline] [--video] [--wait <s>] [--duration <s>]   wait for a call (60 s) and
                                              answer it (--auto: without asking); stays until it ends
    call options: --loopback (127.0.0.1 candidates only), --relay (TURN only), --ring-timeout <s>
    with --json, one line when the call ends:
    {"state":"ended"|"declined"|"busy"|"no-answer"|"failed","reason","durationS","packetsSent","packetsReceived","iceRestarts"}

global options:
  --profile <dir>   this device's keys and state (default $SORI_PROFILE or ~/.sori); files are mode 0600
  --json            one JSON object per line; messages are {"id","chat","from","text","sentAt"}
                    plus "file":{"name","size","path"} for attachments
`;

const BOOLEANS = new Set([
  "json",
  "help",
  "video",
  "auto",
  "decline",
  "loopback",
  "relay",
  "qr",
  "verify",
  "no-passphrase",
]);

const MIME: Record<string, string> = {
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".txt": "text/plain",
  ".pdf": "application/pdf",
  ".ogg": "audio/ogg",
  ".mp3": "audio/mpeg",
  ".m4a": "audio/mp4",
  ".webm": "audio/webm",
  ".mp4": "video/mp4",
};

function mimeOf(path: string): string {
  const dot = path.lastIndexOf(".");
  return (dot >= 0 && MIME[path.slice(dot).toLowerCase()]) || "application/octet-stream";
}

/** A command's view of its CliIo: whole lines out and err. */
type Io = { cli: CliIo; out: (line: string) => void; err: (line: string) => void };

function lineIo(cli: CliIo): Io {
  return { cli, out: (line) => cli.stdout(`${line}\n`), err: (line) => cli.stderr(`${line}\n`) };
}

function profileDir(io: Io, args: ParsedArgs): string {
  const home = io.cli.homeDir;
  const dir = option(args, "profile") ?? io.cli.env.SORI_PROFILE ?? join(home, ".sori");
  return resolve(dir.startsWith("~/") ? join(home, dir.slice(2)) : dir);
}

/**
 * The profile's storage: encrypted under a passphrase ($SORI_PASSPHRASE or a prompt) if it was made
 * so. New profiles are encrypted when a passphrase is given, unless --no-passphrase (bots).
 */
async function profileStorage(io: Io, args: ParsedArgs, creating = false): Promise<ClientStorage> {
  const files = new FileStorage(profileDir(io, args));
  if (await EncryptedStorage.isEncrypted(files)) {
    const passphrase = await readPassphrase(io.cli, "passphrase for this profile: ");
    if (passphrase === undefined)
      throw new SdkError(
        "auth-failed",
        "this profile is encrypted: set SORI_PASSPHRASE or run sori on a terminal to be asked",
      );
    return EncryptedStorage.open(files, passphrase);
  }
  // An existing plain profile stays as it is (enrolling on it fails with a clear message).
  if (!creating || args.options.has("no-passphrase") || (await files.list("")).length > 0) return files;
  const passphrase = await readPassphrase(io.cli, "passphrase to encrypt this profile (empty for none): ");
  return passphrase ? EncryptedStorage.create(files, passphrase) : files;
}

async function openClient(io: Io, args: ParsedArgs): Promise<SoriClient> {
  const client = await SoriClient.open(await profileStorage(io, args));
  client.on("warning", (w) => io.err(`sori: warning: ${w.message}`));
  try {
    await client.connect();
  } catch (error) {
    // Otherwise the transport's reconnect timer keeps the process alive after the error is printed.
    await client.close();
    throw error;
  }
  return client;
}

/** Opens the profile's client, runs `fn`, and always disconnects. */
async function withClient<T>(io: Io, args: ParsedArgs, fn: (client: SoriClient) => Promise<T>): Promise<T> {
  const client = await openClient(io, args);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function messageJson(m: ChatMessage, path?: string | null): string {
  return JSON.stringify({
    id: m.id,
    chat: m.chat,
    from: m.from,
    text: m.text,
    sentAt: new Date(m.sentAt).toISOString(),
    ...(m.call ? { call: m.call } : {}),
    ...(m.file ? { file: { name: m.file.name, size: m.file.size, path: path ?? null } } : {}),
  });
}

/** A call as one line of history. */
function callText(c: NonNullable<ChatMessage["call"]>): string {
  const kind = c.media === "video" ? "video call" : "voice call";
  if (c.missed) return `[missed ${kind}]`;
  if (c.outcome === "answered") {
    const mm = Math.floor(c.durationS / 60);
    const ss = String(c.durationS % 60).padStart(2, "0");
    return `[${c.direction} ${kind}, ${mm}:${ss}]`;
  }
  return `[${c.direction} ${kind}: ${c.outcome}]`;
}

/** How a message reads on one line for people. */
function messageText(m: ChatMessage, path?: string | null): string {
  if (m.call) return callText(m.call);
  if (m.deleted) return "(message deleted)";
  if (m.system?.event === "timer")
    return m.system.seconds > 0
      ? `(${m.system.by} set disappearing messages to ${m.system.seconds} s)`
      : `(${m.system.by} turned disappearing messages off)`;
  if (m.system?.event === "devices-changed")
    return `(${m.system.username}'s devices changed: check the safety number with sori safety-number ${m.system.username})`;
  const file = m.file ? `[file ${m.file.name}, ${m.file.size} bytes${path ? ` → ${path}` : ""}]` : "";
  const sticker = m.sticker ? `[sticker ${m.sticker.pack}/${m.sticker.id}]` : "";
  return [file, sticker, m.text, m.edited ? "(edited)" : ""].filter(Boolean).join(" ");
}

/** `sori call` and `sori answer`: calls are set up before connecting, so no ring is missed. */
async function callCommand(io: Io, command: "call" | "answer", args: ParsedArgs): Promise<number> {
  // Loaded here, not at the top: werift is heavy, and every other command starts faster without it.
  const { CALL_OPTIONS, runAnswer, runCall, setUpCalls } = await import("./calls/call-commands.ts");
  allowOptions(args, command === "call" ? CALL_OPTIONS : [...CALL_OPTIONS, "auto", "decline", "wait"]);
  const client = await SoriClient.open(await profileStorage(io, args));
  client.on("warning", (w) => io.err(`sori: warning: ${w.message}`));
  const counters = setUpCalls(client, args);
  const incoming = new Promise<Call>((resolve) => {
    client.calls.on("incoming", resolve);
  });
  try {
    await client.connect();
    return command === "call"
      ? await runCall(client, args, counters, io.cli)
      : await runAnswer(client, args, counters, io.cli, incoming);
  } finally {
    await client.close();
    // werift can keep a DTLS retransmission timer running for ~30 s after a peer connection closed
    // mid-handshake; the call is over, so do not let it hold the process.
    io.cli.exitSoon();
  }
}

function need(args: ParsedArgs, index: number, what: string): string {
  const v = args.positionals[index];
  if (v === undefined || v === "") throw new UsageError(`missing ${what}`);
  return v;
}

async function enroll(io: Io, mode: "register" | "login" | "link", args: ParsedArgs): Promise<void> {
  allowOptions(args, ["server", "profile", "json", "name", "no-passphrase"]);
  const username = need(args, 1, mode === "link" ? "<code>" : "<username>");
  const server = option(args, "server") ?? io.cli.env.SORI_SERVER;
  if (!server) throw new UsageError("missing --server <url> (or $SORI_SERVER)");
  try {
    new URL(server);
  } catch {
    throw new UsageError(`--server must be a URL such as http://127.0.0.1:8080, got "${server}"`);
  }
  const password = mode === "link" ? username : await readPassword(io.cli, `password for ${username}: `);
  const storage = await profileStorage(io, args, true);
  const options = {
    serverUrl: server,
    username,
    password,
    storage,
    deviceName: option(args, "name") ?? `cli@${io.cli.hostname}`,
  };
  const client =
    mode === "register"
      ? await SoriClient.register(options)
      : mode === "login"
        ? await SoriClient.login(options)
        : await SoriClient.linkDevice({ ...options, code: username });
  if (args.options.has("json")) {
    io.out(JSON.stringify({ userId: client.userId, username: client.username, deviceId: client.deviceId }));
  } else {
    io.out(
      `${mode === "register" ? "registered" : mode === "login" ? "logged in as" : "linked to"} ${client.username} (device ${client.deviceId})`,
    );
  }
}

async function receive(io: Io, args: ParsedArgs): Promise<void> {
  allowOptions(args, ["wait", "json", "profile", "download-dir"]);
  const downloadDir = resolve(option(args, "download-dir") ?? join(profileDir(io, args), "downloads"));
  const waitText = option(args, "wait") ?? "0";
  const waitS = Number(waitText);
  if (!Number.isFinite(waitS) || waitS < 0 || waitS > 86_400)
    throw new UsageError(`--wait takes seconds from 0 to 86400, got "${waitText}"`);
  const json = args.options.has("json");
  await withClient(io, args, async (client) => {
    let messages = await client.takeReceived();
    if (messages.length === 0 && waitS > 0) {
      await new Promise<void>((done) => {
        const timer = setTimeout(finish, waitS * 1000);
        const off = client.on("message", (m) => {
          if (m.outgoing) return;
          clearTimeout(timer);
          // A short grace lets a burst that arrived together be printed together.
          setTimeout(finish, 200);
        });
        function finish(): void {
          off();
          done();
        }
      });
      messages = await client.takeReceived();
    }
    const names = new Map((await client.chats()).map((c) => [c.id, c]));
    for (const m of messages) {
      let path: string | null = null;
      if (m.file && !m.deleted) {
        try {
          const bar = progressBar(io.cli, m.file.name);
          const bytes = await client.downloadFile(m.chat, m.id, { onProgress: bar.update });
          bar.done();
          path = saveDownload(downloadDir, m.file.name, bytes);
        } catch (error) {
          io.err(`sori: could not download ${m.file.name}: ${(error as Error).message}`);
        }
      }
      if (json) io.out(messageJson(m, path));
      else {
        const chat = names.get(m.chat);
        const where = chat?.kind === "group" ? `[${chat.name}] ` : "";
        io.out(`${new Date(m.sentAt).toISOString()} ${where}${m.from}: ${messageText(m, path)}`);
      }
    }
    // Printed is read: disappearing timers start now, and senders see it read (unless switched off).
    for (const chat of new Set(messages.map((m) => m.chat))) await client.markRead(chat);
  });
}

function chatLine(c: ChatSummary): string {
  const when = c.lastMessageAt ? new Date(c.lastMessageAt).toISOString() : "-";
  const status = c.active ? "" : " (removed)";
  return `${c.id}  ${c.kind === "group" ? "group" : "direct"}  ${c.name}${status}  members: ${c.members.join(", ")}  last: ${when}`;
}

async function group(io: Io, args: ParsedArgs): Promise<void> {
  const sub = need(args, 1, "group subcommand (create, add, remove)");
  if (sub === "create") {
    allowOptions(args, ["members", "profile", "json"]);
    const name = need(args, 2, "<name>");
    const members = (option(args, "members") ?? "")
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean);
    if (members.length === 0) throw new UsageError("missing --members <user,user,...>");
    const chat = await withClient(io, args, (c) => c.createGroup(name, members));
    io.out(
      args.options.has("json")
        ? JSON.stringify({ id: chat.id, name: chat.name, members: chat.members })
        : chat.id,
    );
    return;
  }
  if (sub === "add" || sub === "remove") {
    allowOptions(args, ["profile", "json"]);
    const chatId = need(args, 2, "<chat-id>");
    const username = need(args, 3, "<username>");
    await withClient(io, args, (c) =>
      sub === "add" ? c.addMember(chatId, username) : c.removeMember(chatId, username),
    );
    if (args.options.has("json")) io.out(JSON.stringify({ ok: true }));
    else io.out(`${sub === "add" ? "added" : "removed"} ${username}`);
    return;
  }
  throw new UsageError(`unknown group subcommand "${sub}"`);
}

async function runCommand(io: Io, argv: string[]): Promise<number> {
  if (argv[0] === "server") return runServerCommand(argv.slice(1));
  const args = parseArgs(argv, BOOLEANS);
  const command = args.positionals[0];
  if (!command || args.options.has("help") || command === "help") {
    io.out(USAGE);
    return command || args.options.has("help") ? 0 : 2;
  }
  const json = args.options.has("json");
  switch (command) {
    case "register":
    case "login":
      await enroll(io, command, args);
      return 0;
    case "send": {
      allowOptions(args, ["profile", "json", "file"]);
      const target = need(args, 1, "<username|chat-id>");
      const text = args.positionals.slice(2).join(" ");
      const filePath = option(args, "file");
      if (filePath !== undefined) {
        let bytes: Uint8Array;
        try {
          if (!statSync(filePath).isFile()) throw new Error("not a file");
          bytes = readFileSync(filePath);
        } catch {
          throw new UsageError(`--file: cannot read "${filePath}"`);
        }
        const bar = progressBar(io.cli, basename(filePath));
        const m = await withClient(io, args, (c) =>
          c.sendFile(
            target,
            { name: basename(filePath), mime: mimeOf(filePath), bytes },
            { caption: text, onProgress: bar.update },
          ),
        );
        bar.done();
        if (json) io.out(messageJson(m, resolve(filePath)));
        return 0;
      }
      if (!text) throw new UsageError("missing <text>");
      const m = await withClient(io, args, (c) => c.sendText(target, text));
      if (json) io.out(messageJson(m));
      return 0;
    }
    case "receive":
      await receive(io, args);
      return 0;
    case "link":
      await enroll(io, "link", args);
      return 0;
    case "group":
      await group(io, args);
      return 0;
    case "chats": {
      allowOptions(args, ["profile", "json"]);
      const chats = await withClient(io, args, (c) => c.chats());
      for (const c of chats) io.out(json ? JSON.stringify(c) : chatLine(c));
      if (!json && chats.length === 0) io.out("no chats yet: sori send <username> <text> starts one");
      return 0;
    }
    case "history": {
      allowOptions(args, ["profile", "json", "limit"]);
      const target = need(args, 1, "<chat-id|username>");
      const messages = await withClient(io, args, async (c) => {
        const chat = await c.findChat(target);
        if (!chat) throw new SdkError("unknown-chat", `no chat "${target}" on this device`);
        return c.history(chat.id);
      });
      for (const m of messages)
        io.out(json ? messageJson(m) : `${new Date(m.sentAt).toISOString()} ${m.from}: ${messageText(m)}`);
      return 0;
    }
    case "timer": {
      allowOptions(args, ["profile", "json"]);
      const target = need(args, 1, "<chat-id|username>");
      const value = need(args, 2, "<seconds|off>");
      const seconds = value === "off" ? 0 : Number(value);
      if (!Number.isInteger(seconds) || seconds < 0 || seconds > 604_800)
        throw new UsageError(`the timer is "off" or 1 to 604800 seconds, got "${value}"`);
      await withClient(io, args, async (c) => {
        const chat = await c.findChat(target);
        if (!chat) throw new SdkError("unknown-chat", `no chat "${target}" on this device`);
        await c.setTimer(chat.id, seconds);
      });
      io.out(
        json
          ? JSON.stringify({ ok: true, seconds })
          : seconds > 0
            ? `messages now disappear ${seconds} s after reading`
            : "disappearing messages off",
      );
      return 0;
    }
    case "safety-number": {
      allowOptions(args, ["profile", "json", "qr", "verify"]);
      const username = need(args, 1, "<username>");
      const sn = await withClient(io, args, async (c) => {
        if (args.options.has("verify")) await c.setVerified(username, true);
        return c.safetyNumber(username);
      });
      if (json) {
        io.out(
          JSON.stringify({ username: sn.username, digits: sn.digits, qr: sn.qr, verified: sn.verified }),
        );
        return 0;
      }
      for (let i = 0; i < 12; i += 4) io.out(sn.groups.slice(i, i + 4).join(" "));
      io.out(
        sn.verified
          ? `verified: yes`
          : `verified: no (compare with ${sn.username}, then sori safety-number ${sn.username} --verify)`,
      );
      if (args.options.has("qr")) {
        const qr = qrcode(0, "M");
        qr.addData(sn.qr);
        qr.make();
        io.out(qr.createASCII(1, 2));
      }
      return 0;
    }
    case "devices": {
      allowOptions(args, ["profile", "json"]);
      if (args.positionals[1] === "link") {
        const link = await withClient(io, args, (c) => c.createDeviceLink());
        if (json) io.out(JSON.stringify(link));
        else {
          io.out(
            `on the new device: sori link ${link.code} --server <this server>   (valid 10 minutes, once)`,
          );
          const qr = qrcode(0, "M");
          qr.addData(link.qr);
          qr.make();
          io.out(qr.createASCII(1, 2));
        }
        return 0;
      }
      if (args.positionals[1] === "revoke") {
        const id = need(args, 2, "<device-id>");
        await withClient(io, args, (c) => c.revokeDevice(id));
        io.out(json ? JSON.stringify({ ok: true }) : `revoked ${id}`);
        return 0;
      }
      const { devices } = await withClient(io, args, (c) => c.devices());
      for (const d of devices) {
        io.out(
          json
            ? JSON.stringify(d)
            : `${d.deviceId}  ${d.name}${d.current ? "  (this device)" : ""}  added ${new Date(d.createdAt).toISOString()}`,
        );
      }
      return 0;
    }
    case "call":
    case "answer":
      return callCommand(io, command, args);
    case "logout": {
      allowOptions(args, ["profile"]);
      const client = await SoriClient.open(await profileStorage(io, args));
      await client.logout();
      io.out("logged out; this device is revoked and its local data deleted");
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}" (see sori --help)`);
  }
}

/** Runs one `sori` command line; resolves to its exit code (0 ok, 1 failed, 2 usage error). */
export async function run(argv: string[], cli: CliIo): Promise<number> {
  const io = lineIo(cli);
  try {
    return await runCommand(io, argv);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`sori: ${error.message}`);
      return 2;
    }
    if (error instanceof SdkError) {
      io.err(`sori: ${error.message}${error.code === "offline" ? " (is the server running?)" : ""}`);
      return 1;
    }
    io.err(`sori: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
