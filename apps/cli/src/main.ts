import { homedir, hostname } from "node:os";
import { join, resolve } from "node:path";
import { type Call, type ChatMessage, type ChatSummary, SdkError, SoriClient } from "@sori/sdk";
import { FileStorage } from "@sori/sdk/node";
import { runServerCommand } from "@sori/server";
import { allowOptions, option, type ParsedArgs, parseArgs, UsageError } from "./args.ts";
import { readPassword } from "./password-prompt.ts";

const USAGE = `sori — end-to-end encrypted messenger (CLI)

usage:
  sori server [--host 127.0.0.1] [--port 8080] [--data ./sori-data]   run a server (sori server --help)
  sori register <username> --server <url>     create an account and this device (password: $SORI_PASSWORD or prompt)
  sori login <username> --server <url>        add this profile as a new device of an existing account
  sori send <username|chat-id> <text>         send a message (a direct chat is created if needed)
  sori receive [--wait <seconds>] [--json]    messages that arrived since the last receive
  sori group create <name> --members <user,user,...>   create a group; prints its chat id
  sori group add <chat-id> <username>         add a member to a group
  sori group remove <chat-id> <username>      remove a member from a group
  sori chats [--json]                         list chats
  sori history <chat-id|username> [--json]    the local history of one chat
  sori devices [--json]                       this account's devices
  sori devices revoke <device-id>             sign out another device
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
`;

const BOOLEANS = new Set(["json", "help", "video", "auto", "decline", "loopback", "relay"]);

type Io = { out: (line: string) => void; err: (line: string) => void };
const io: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function profileDir(args: ParsedArgs): string {
  const dir = option(args, "profile") ?? process.env.SORI_PROFILE ?? join(homedir(), ".sori");
  return resolve(dir.startsWith("~/") ? join(homedir(), dir.slice(2)) : dir);
}

async function openClient(args: ParsedArgs): Promise<SoriClient> {
  const client = await SoriClient.open(new FileStorage(profileDir(args)));
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
async function withClient<T>(args: ParsedArgs, fn: (client: SoriClient) => Promise<T>): Promise<T> {
  const client = await openClient(args);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function messageJson(m: ChatMessage): string {
  return JSON.stringify({
    id: m.id,
    chat: m.chat,
    from: m.from,
    text: m.text,
    sentAt: new Date(m.sentAt).toISOString(),
    ...(m.call ? { call: m.call } : {}),
  });
}

/** How history and receive show a message: its text, or a line describing a call. */
function messageText(m: ChatMessage): string {
  const c = m.call;
  if (!c) return m.text;
  const kind = c.media === "video" ? "video call" : "voice call";
  if (c.missed) return `[missed ${kind}]`;
  if (c.outcome === "answered") {
    const mm = Math.floor(c.durationS / 60);
    const ss = String(c.durationS % 60).padStart(2, "0");
    return `[${c.direction} ${kind}, ${mm}:${ss}]`;
  }
  return `[${c.direction} ${kind}: ${c.outcome}]`;
}

/** `sori call` and `sori answer`: calls are set up before connecting, so no ring is missed. */
async function callCommand(command: "call" | "answer", args: ParsedArgs): Promise<number> {
  // Loaded here, not at the top: werift is heavy, and every other command starts faster without it.
  const { CALL_OPTIONS, runAnswer, runCall, setUpCalls } = await import("./calls/call-commands.ts");
  allowOptions(args, command === "call" ? CALL_OPTIONS : [...CALL_OPTIONS, "auto", "decline", "wait"]);
  const client = await SoriClient.open(new FileStorage(profileDir(args)));
  client.on("warning", (w) => io.err(`sori: warning: ${w.message}`));
  const counters = setUpCalls(client, args);
  const incoming = new Promise<Call>((resolve) => {
    client.calls.on("incoming", resolve);
  });
  try {
    await client.connect();
    return command === "call"
      ? await runCall(client, args, counters, io)
      : await runAnswer(client, args, counters, io, incoming);
  } finally {
    await client.close();
    // werift can keep a DTLS retransmission timer running for ~30 s after a peer connection closed
    // mid-handshake; the call is over, so do not let it hold the process.
    setTimeout(() => process.exit(), 500).unref();
  }
}

function need(args: ParsedArgs, index: number, what: string): string {
  const v = args.positionals[index];
  if (v === undefined || v === "") throw new UsageError(`missing ${what}`);
  return v;
}

async function enroll(mode: "register" | "login", args: ParsedArgs): Promise<void> {
  allowOptions(args, ["server", "profile", "json", "name"]);
  const username = need(args, 1, "<username>");
  const server = option(args, "server") ?? process.env.SORI_SERVER;
  if (!server) throw new UsageError("missing --server <url> (or $SORI_SERVER)");
  try {
    new URL(server);
  } catch {
    throw new UsageError(`--server must be a URL such as http://127.0.0.1:8080, got "${server}"`);
  }
  const password = await readPassword(`password for ${username}: `);
  const storage = new FileStorage(profileDir(args));
  const options = {
    serverUrl: server,
    username,
    password,
    storage,
    deviceName: option(args, "name") ?? `cli@${hostname()}`,
  };
  const client = mode === "register" ? await SoriClient.register(options) : await SoriClient.login(options);
  if (args.options.has("json")) {
    io.out(JSON.stringify({ userId: client.userId, username: client.username, deviceId: client.deviceId }));
  } else {
    io.out(
      `${mode === "register" ? "registered" : "logged in as"} ${client.username} (device ${client.deviceId})`,
    );
  }
}

async function receive(args: ParsedArgs): Promise<void> {
  allowOptions(args, ["wait", "json", "profile"]);
  const waitText = option(args, "wait") ?? "0";
  const waitS = Number(waitText);
  if (!Number.isFinite(waitS) || waitS < 0 || waitS > 86_400)
    throw new UsageError(`--wait takes seconds from 0 to 86400, got "${waitText}"`);
  const json = args.options.has("json");
  await withClient(args, async (client) => {
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
      if (json) io.out(messageJson(m));
      else {
        const chat = names.get(m.chat);
        const where = chat?.kind === "group" ? `[${chat.name}] ` : "";
        io.out(`${new Date(m.sentAt).toISOString()} ${where}${m.from}: ${messageText(m)}`);
      }
    }
  });
}

function chatLine(c: ChatSummary): string {
  const when = c.lastMessageAt ? new Date(c.lastMessageAt).toISOString() : "-";
  const status = c.active ? "" : " (removed)";
  return `${c.id}  ${c.kind === "group" ? "group" : "direct"}  ${c.name}${status}  members: ${c.members.join(", ")}  last: ${when}`;
}

async function group(args: ParsedArgs): Promise<void> {
  const sub = need(args, 1, "group subcommand (create, add, remove)");
  if (sub === "create") {
    allowOptions(args, ["members", "profile", "json"]);
    const name = need(args, 2, "<name>");
    const members = (option(args, "members") ?? "")
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean);
    if (members.length === 0) throw new UsageError("missing --members <user,user,...>");
    const chat = await withClient(args, (c) => c.createGroup(name, members));
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
    await withClient(args, (c) =>
      sub === "add" ? c.addMember(chatId, username) : c.removeMember(chatId, username),
    );
    if (args.options.has("json")) io.out(JSON.stringify({ ok: true }));
    else io.out(`${sub === "add" ? "added" : "removed"} ${username}`);
    return;
  }
  throw new UsageError(`unknown group subcommand "${sub}"`);
}

async function run(argv: string[]): Promise<number> {
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
      await enroll(command, args);
      return 0;
    case "send": {
      allowOptions(args, ["profile", "json"]);
      const target = need(args, 1, "<username|chat-id>");
      const text = args.positionals.slice(2).join(" ");
      if (!text) throw new UsageError("missing <text>");
      const m = await withClient(args, (c) => c.sendText(target, text));
      if (json) io.out(messageJson(m));
      return 0;
    }
    case "receive":
      await receive(args);
      return 0;
    case "group":
      await group(args);
      return 0;
    case "chats": {
      allowOptions(args, ["profile", "json"]);
      const chats = await withClient(args, (c) => c.chats());
      for (const c of chats) io.out(json ? JSON.stringify(c) : chatLine(c));
      if (!json && chats.length === 0) io.out("no chats yet: sori send <username> <text> starts one");
      return 0;
    }
    case "history": {
      allowOptions(args, ["profile", "json", "limit"]);
      const target = need(args, 1, "<chat-id|username>");
      const messages = await withClient(args, async (c) => {
        const chat = await c.findChat(target);
        if (!chat) throw new SdkError("unknown-chat", `no chat "${target}" on this device`);
        return c.history(chat.id);
      });
      for (const m of messages)
        io.out(json ? messageJson(m) : `${new Date(m.sentAt).toISOString()} ${m.from}: ${messageText(m)}`);
      return 0;
    }
    case "devices": {
      allowOptions(args, ["profile", "json"]);
      if (args.positionals[1] === "revoke") {
        const id = need(args, 2, "<device-id>");
        await withClient(args, (c) => c.revokeDevice(id));
        io.out(json ? JSON.stringify({ ok: true }) : `revoked ${id}`);
        return 0;
      }
      const { devices } = await withClient(args, (c) => c.devices());
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
      return callCommand(command, args);
    case "logout": {
      allowOptions(args, ["profile"]);
      const client = await SoriClient.open(new FileStorage(profileDir(args)));
      await client.logout();
      io.out("logged out; this device is revoked and its local data deleted");
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}" (see sori --help)`);
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    io.err(`sori: ${error.message}`);
    process.exitCode = 2;
  } else if (error instanceof SdkError) {
    io.err(`sori: ${error.message}${error.code === "offline" ? " (is the server running?)" : ""}`);
    process.exitCode = 1;
  } else {
    io.err(`sori: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
