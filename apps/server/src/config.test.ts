import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseServerConfig } from "./config.ts";

describe("server configuration", () => {
  it("takes defaults, then environment, then flags", () => {
    const d = parseServerConfig([], {});
    assert.equal(d.host, "127.0.0.1");
    assert.equal(d.port, 8080);
    assert.equal(d.durability, "full");
    const c = parseServerConfig(["--port", "9000", "--durability=normal"], {
      SORI_PORT: "7000",
      SORI_HOST: "0.0.0.0",
    });
    assert.equal(c.port, 9000);
    assert.equal(c.host, "0.0.0.0");
    assert.equal(c.durability, "normal");
  });

  it("refuses bad values with a message naming the option", () => {
    assert.throws(
      () => parseServerConfig(["--port", "70000"], {}),
      (e: unknown) => e instanceof ConfigError && /--port/.test(e.message),
    );
    assert.throws(() => parseServerConfig(["--durability", "maybe"], {}), /--durability/);
    assert.throws(() => parseServerConfig(["--nope", "1"], {}), /unknown option "--nope"/);
    assert.throws(() => parseServerConfig(["--port"], {}), /needs a value/);
    assert.throws(() => parseServerConfig([], { SORI_MAX_MESSAGE_BYTES: "12" }), /--max-message-bytes/);
    assert.throws(() => parseServerConfig(["--store-thread", "yes"], {}), /--store-thread/);
    assert.throws(() => parseServerConfig(["--metrics", "1"], {}), /--metrics/);
  });

  it("runs the store on its own thread and serves metrics unless told otherwise", () => {
    const d = parseServerConfig([], {});
    assert.equal(d.storeThread, true);
    assert.equal(d.metrics, true);
    const c = parseServerConfig(["--store-thread", "off"], { SORI_METRICS: "off" });
    assert.equal(c.storeThread, false);
    assert.equal(c.metrics, false);
  });
});
