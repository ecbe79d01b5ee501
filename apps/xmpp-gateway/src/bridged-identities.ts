import { createHash } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@sori/server";
import { SdkError, SoriClient } from "@sori/sdk";
import { FileStorage } from "@sori/sdk/node";
import { ConcurrencyLimit } from "./concurrency-limit.ts";

type Index = { identities: Record<string, string> };

/**
 * Identities made at once. Making one is costly (keys, 50 KeyPackages, three round trips): a burst of
 * new senders made all at once would each wait for all of them, and a stop would wait for every one
 * started; a few at a time, the first are ready soonest and a stop waits only for those few.
 */
const MAKING_AT_ONCE = 4;

/**
 * The bridged identities this gateway runs: one Sori account and device per XMPP address, each in a
 * directory of its own under `dir` (the SDK's file storage, 0600), listed in `index.json`. Every one
 * is connected while the gateway runs, so what Sori users send them arrives at once.
 */
export class BridgedIdentities {
  readonly #gateway: SoriClient;
  readonly #dir: string;
  readonly #log: Logger;
  readonly #attach: (username: string, client: SoriClient) => void;
  readonly #clients = new Map<string, SoriClient>();
  /** Identities being made or opened: a second ask for one waits for the first. */
  readonly #opening = new Map<string, Promise<SoriClient>>();
  #index: Index = { identities: {} };
  #saving: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #making = new ConcurrencyLimit(MAKING_AT_ONCE);

  constructor(options: {
    gateway: SoriClient;
    dir: string;
    log: Logger;
    /** Called once per identity when it is open, before it connects (to listen to its events). */
    attach(username: string, client: SoriClient): void;
  }) {
    this.#gateway = options.gateway;
    this.#dir = options.dir;
    this.#log = options.log;
    this.#attach = options.attach;
  }

  /** Reads the index and opens and connects every identity in it. */
  async load(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    try {
      this.#index = JSON.parse(await readFile(join(this.#dir, "index.json"), "utf8")) as Index;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    for (const username of Object.keys(this.#index.identities)) {
      await this.ensure(username).catch((error: unknown) => {
        this.#log.warn("xmpp.identity_unavailable", { reason: codeOf(error) });
      });
    }
  }

  /** The identity's open client, if it is running. */
  get(username: string): SoriClient | undefined {
    return this.#clients.get(username.toLowerCase());
  }

  /** The directory of a running identity, where the gateway keeps its own files beside the SDK's. */
  directoryOf(username: string): string | undefined {
    const key = username.toLowerCase();
    if (!this.#clients.has(key)) return undefined;
    return join(this.#dir, this.#index.identities[key] ?? folderOf(key));
  }

  all(): [string, SoriClient][] {
    return [...this.#clients];
  }

  /** The identity's client: opened, or made at the server first if this gateway never had it. */
  ensure(username: string): Promise<SoriClient> {
    const key = username.toLowerCase();
    const open = this.#clients.get(key);
    if (open) return Promise.resolve(open);
    let pending = this.#opening.get(key);
    if (!pending) {
      pending = this.#open(key).finally(() => this.#opening.delete(key));
      this.#opening.set(key, pending);
    }
    return pending;
  }

  async #open(username: string): Promise<SoriClient> {
    if (this.#closed) throw new SdkError("closed", "the gateway is stopping");
    const folder = this.#index.identities[username] ?? folderOf(username);
    const storage = new FileStorage(join(this.#dir, folder));
    let client: SoriClient;
    try {
      client = await SoriClient.open(storage);
    } catch (error) {
      if (!(error instanceof SdkError && error.code === "not-logged-in")) throw error;
      // Listed before it is made: a crash in between leaves an entry to retry, not keys to lose.
      if (!this.#index.identities[username]) {
        this.#index.identities[username] = folder;
        await this.#save();
      }
      await this.#making.run(async () => {
        if (this.#closed) throw new SdkError("closed", "the gateway is stopping");
        await this.#gateway.createBridgedIdentity({ username, storage, deviceName: "xmpp gateway" });
      });
      client = await SoriClient.open(storage);
      this.#log.info("xmpp.identity_created", {});
    }
    // "Delivered" for a Sori sender means the XMPP user's client has it (its XEP-0184 receipt, or the
    // room it was passed to), not that this gateway does: the identity confirms only when told.
    if ((await client.settings()).deliveryReceipts !== "manual")
      await client.setSettings({ deliveryReceipts: "manual" });
    this.#attach(username, client);
    this.#clients.set(username, client);
    await client.connect();
    return client;
  }

  /** Saves run one after another: two at once would race for the same temporary file. */
  #save(): Promise<void> {
    const next = this.#saving.then(() => this.#write());
    this.#saving = next.catch(() => undefined);
    return next;
  }

  async #write(): Promise<void> {
    const path = join(this.#dir, "index.json");
    const tmp = `${path}.tmp`;
    const file = await open(tmp, "w", 0o600);
    try {
      await file.writeFile(JSON.stringify(this.#index));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  }

  /** From now on no identity is made or opened (the gateway is stopping); those running stay open. */
  refuseNew(): void {
    this.#closed = true;
  }

  async close(): Promise<void> {
    this.refuseNew();
    await Promise.allSettled([...this.#opening.values()]);
    await Promise.allSettled([...this.#clients.values()].map((c) => c.close()));
    this.#clients.clear();
  }
}

/** A directory name that says nothing of the address (the index maps it). */
function folderOf(username: string): string {
  return createHash("sha256").update(username).digest("hex").slice(0, 32);
}

function codeOf(error: unknown): string {
  return error instanceof SdkError ? error.code : error instanceof Error ? error.name : "error";
}
