import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChatMessage, MemoryStorage, SoriClient } from "@sori/sdk";
import { createLogger, parseServerConfig, type RunningServer, startServer } from "@sori/server";

/** A real server on 127.0.0.1 with a fresh data dir; its log lines are kept for inspection. */
export type TestServer = {
  server: RunningServer;
  url: string;
  dataDir: string;
  logs: string[];
  restart(): Promise<void>;
  stop(): Promise<void>;
};

export async function startTestServer(extraArgs: string[] = []): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "sori-test-"));
  const logs: string[] = [];
  let port = 0;
  const boot = async (): Promise<RunningServer> => {
    const config = parseServerConfig(
      [
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--data",
        dataDir,
        "--durability",
        "normal",
        ...extraArgs,
      ],
      {},
    );
    const s = await startServer(
      config,
      createLogger("debug", (l) => logs.push(l)),
    );
    port = s.port;
    return s;
  };
  const t: TestServer = {
    server: await boot(),
    url: "",
    dataDir,
    logs,
    restart: async () => {
      await t.server.close();
      t.server = await boot();
    },
    stop: async () => {
      await t.server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  t.url = t.server.url;
  return t;
}

export const PASSWORD = "correct horse battery";

/** Registers a user with in-memory storage and connects it. */
export async function newUser(url: string, username: string): Promise<SoriClient> {
  const storage = new MemoryStorage();
  await SoriClient.register({ serverUrl: url, username, password: PASSWORD, storage, deviceName: "test" });
  const client = await SoriClient.open(storage);
  await client.connect();
  return client;
}

/** Logs in a further device of an existing user and connects it. */
export async function newDevice(url: string, username: string): Promise<SoriClient> {
  const storage = new MemoryStorage();
  await SoriClient.login({ serverUrl: url, username, password: PASSWORD, storage, deviceName: "second" });
  const client = await SoriClient.open(storage);
  await client.connect();
  return client;
}

/** Waits (bounded) until `client` has received `count` messages from others; returns them in order. */
export async function receive(client: SoriClient, count: number, timeoutMs = 10_000): Promise<ChatMessage[]> {
  const got: ChatMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    got.push(...(await client.takeReceived()));
    if (got.length < count) await new Promise((r) => setTimeout(r, 25));
  }
  if (got.length < count)
    throw new Error(
      `expected ${count} messages, got ${got.length}: ${JSON.stringify(got.map((m) => m.text))}`,
    );
  return got;
}
