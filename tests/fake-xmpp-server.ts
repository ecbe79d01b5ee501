import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";

/** One component connection to the fake server, after the XEP-0114 handshake. */
export class FakeComponentLink {
  readonly #socket: Socket;
  #received = "";
  #closed = false;
  #waiters: (() => void)[] = [];

  constructor(socket: Socket, afterHandshake: string) {
    this.#socket = socket;
    this.#take(afterHandshake);
    socket.on("data", (c: Buffer) => this.#take(c.toString("utf8")));
    socket.on("close", () => {
      this.#closed = true;
      this.#wake();
    });
  }

  /** Everything the component sent after the handshake. */
  get received(): string {
    return this.#received;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends raw bytes to the component, as they are: a test's hostile stanza. */
  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  /** The first match of `re` in what the component sent (past or future), within `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.#received.match(re);
      if (m) return m;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `the component sent nothing matching ${re} in ${timeoutMs} ms: ${this.#received.slice(-800)}`,
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

  /** Resolves once the component closed the connection (within `timeoutMs`). */
  async waitClosed(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed) {
      if (Date.now() > deadline)
        throw new Error(`the component kept the connection open for ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.#socket.destroy();
  }

  #take(text: string): void {
    this.#received += text;
    // Answers the gateway's pings (XEP-0199) as a server does: its Sori → XMPP messages wait on them.
    for (const m of text.matchAll(/<iq ([^>]*)><ping xmlns="urn:xmpp:ping"\/><\/iq>/g)) {
      const attr = (name: string): string => new RegExp(`${name}="([^"]*)"`).exec(m[1]!)?.[1] ?? "";
      this.#socket.write(`<iq type='result' id='${attr("id")}' from='${attr("to")}' to='${attr("from")}'/>`);
    }
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

/**
 * A TCP server that speaks just enough XEP-0114 to let the gateway's component in (stream header,
 * SHA-1 handshake of stream id and secret) and then sends whatever a test writes: for input no real
 * server would pass on.
 */
export class FakeXmppServer {
  readonly links: FakeComponentLink[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #waiters: (() => void)[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(o: { domain: string; secret: string }): Promise<FakeXmppServer> {
    const server = createServer();
    const fake = new FakeXmppServer(server);
    server.on("connection", (socket) => fake.#accept(socket, o));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return fake;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** Connection number `n` (0 the first), once its handshake succeeded, within `timeoutMs`. */
  async link(n: number, timeoutMs: number): Promise<FakeComponentLink> {
    const deadline = Date.now() + timeoutMs;
    while (!this.links[n]) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no component connection #${n} in ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
    return this.links[n];
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  #accept(socket: Socket, o: { domain: string; secret: string }): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => undefined);
    const id = randomBytes(8).toString("hex");
    let buffered = "";
    let phase: "header" | "handshake" = "header";
    const onData = (c: Buffer): void => {
      buffered += c.toString("utf8");
      if (phase === "header") {
        if (!/<stream:stream[^>]*>/.test(buffered)) return;
        buffered = buffered.replace(/^[\s\S]*?<stream:stream[^>]*>/, "");
        phase = "handshake";
        socket.write(
          `<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' ` +
            `xmlns='jabber:component:accept' from='${o.domain}' id='${id}'>`,
        );
      }
      const m = /<handshake>([0-9a-f]+)<\/handshake>/.exec(buffered);
      if (!m) return;
      socket.off("data", onData);
      const expected = createHash("sha1")
        .update(id + o.secret)
        .digest("hex");
      if (m[1] !== expected) {
        socket.end(
          "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
        );
        return;
      }
      socket.write("<handshake/>");
      this.links.push(new FakeComponentLink(socket, buffered.slice(m.index + m[0].length)));
      for (const w of this.#waiters.splice(0)) w();
    };
    socket.on("data", onData);
  }
}
