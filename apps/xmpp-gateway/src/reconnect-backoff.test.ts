import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { createLogger } from "@sori/server";
import { ReconnectBackoff } from "./reconnect-backoff.ts";
import type { XmppComponent } from "./xmpp-library.ts";

/** A stand-in for the xmpp.js component: each try fails as `next()` says. */
function fakeComponent(next: () => "refused" | "half-open" | "online"): {
  component: XmppComponent;
  tries: number[];
  destroyed: number;
} {
  const emitter = new EventEmitter();
  const state = { tries: [] as number[], destroyed: 0 };
  const component = Object.assign(emitter, {
    status: "online",
    socket: {
      writableLength: 0,
      destroy: () => {
        state.destroyed++;
        component.status = "disconnect";
        emitter.emit("disconnect");
      },
    },
    reconnect: {
      stop: () => undefined,
      reconnect: async (): Promise<void> => {
        state.tries.push(Date.now());
        const outcome = next();
        if (outcome === "online") {
          component.status = "online";
          emitter.emit("online");
          return;
        }
        if (outcome === "refused") {
          component.status = "disconnect";
          setImmediate(() => emitter.emit("disconnect"));
          throw Object.assign(new Error("refused"), { code: "ECONNREFUSED" });
        }
        component.status = "opening";
        throw new Error("timeout");
      },
    },
  }) as unknown as XmppComponent & { status: string };
  return {
    component,
    get tries() {
      return state.tries;
    },
    get destroyed() {
      return state.destroyed;
    },
  };
}

describe("reconnecting with backoff", () => {
  it("doubles the wait from the first up to the longest", () => {
    const b = new ReconnectBackoff(
      fakeComponent(() => "online").component,
      createLogger("error", () => undefined),
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 40].map((n) => b.delayOf(n)),
      [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000],
    );
    b.stop();
  });

  it("tries again after refusals and after a server that never opens the stream, logs each try, and starts over once online", async () => {
    const outcomes: ("refused" | "half-open" | "online")[] = ["refused", "half-open", "refused", "online"];
    const fake = fakeComponent(() => outcomes.shift() ?? "online");
    const lines: string[] = [];
    const b = new ReconnectBackoff(
      fake.component,
      createLogger("info", (l) => lines.push(l)),
      {
        firstMs: 20,
        maxMs: 60,
      },
    );
    (fake.component as { status: string }).status = "disconnect";
    (fake.component as unknown as EventEmitter).emit("disconnect");
    for (let i = 0; i < 200 && fake.tries.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(fake.tries.length, 4);
    assert.equal(fake.destroyed, 1, "the half-open try was ended");
    const scheduled = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === "xmpp.reconnect_scheduled");
    assert.deepEqual(
      scheduled.map((l) => l.attempt),
      [1, 2, 3, 4],
    );
    for (const [i, l] of scheduled.entries()) {
      const nominal = Math.min(60, 20 * 2 ** i);
      assert.ok(Number(l.delayMs) <= nominal && Number(l.delayMs) >= nominal * 0.75, JSON.stringify(l));
    }
    assert.ok(lines.some((l) => l.includes('"event":"xmpp.reconnected"') && l.includes('"attempts":4')));
    // Online again: the next loss starts from the first wait.
    (fake.component as { status: string }).status = "disconnect";
    (fake.component as unknown as EventEmitter).emit("disconnect");
    const last = JSON.parse(lines.at(-1)!) as { event: string; attempt: number };
    assert.deepEqual([last.event, last.attempt], ["xmpp.reconnect_scheduled", 1]);
    b.stop();
  });
});
