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

  it("takes the gateway accounts from the flag and the environment, in lower case", () => {
    assert.deepEqual(parseServerConfig(["--gateways", "Phone,xmpp_gw"], {}).gateways, ["phone", "xmpp_gw"]);
    assert.deepEqual(parseServerConfig([], { SORI_GATEWAYS: "phone" }).gateways, ["phone"]);
    assert.deepEqual(parseServerConfig([], {}).gateways, []);
    assert.throws(() => parseServerConfig(["--gateways", "no spaces please"], {}), /--gateways/);
  });

  it("takes bridge namespaces with their owning gateway, which also becomes a gateway account", () => {
    const c = parseServerConfig(["--bridges", "xmpp=XmppGw, matrix=mx_gw"], {});
    assert.deepEqual(c.bridges, { xmpp: "xmppgw", matrix: "mx_gw" });
    assert.deepEqual(c.gateways, ["xmppgw", "mx_gw"]);
    for (const bad of [
      "xmpp",
      "xmpp=gw=x",
      "Xmpp=xmppgw",
      "x=xmppgw",
      "xmpp=ab",
      "xmpp:1=xmppgw",
      "xmpp=a b c",
    ])
      assert.throws(
        () => parseServerConfig(["--bridges", bad], {}),
        (e: unknown) =>
          e instanceof ConfigError && e.message.includes("--bridges") && e.message.includes(bad),
        bad,
      );
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

  it("takes timeouts, the message rate, a database cap and a TLS pair", () => {
    const d = parseServerConfig([], {});
    assert.deepEqual(d.timeouts, { authS: 10, idleS: 60, requestS: 30 });
    assert.equal(d.tlsCert, undefined);
    const c = parseServerConfig(
      ["--auth-timeout", "2", "--idle-timeout=4", "--request-timeout", "5", "--messages-per-minute", "60"],
      {
        SORI_MAX_DB_MB: "3",
        SORI_TLS_CERT: "/x/cert.pem",
        SORI_TLS_KEY: "/x/key.pem",
        SORI_REQUESTS_IN_FLIGHT: "5",
      },
    );
    assert.equal(d.limits.requestsInFlight, 64);
    assert.deepEqual([d.dbCacheMb, d.dbMmapMb, d.dbCheckpointMs], [64, 256, 100]);
    const db = parseServerConfig(["--db-cache-mb", "8", "--db-mmap-mb=0"], { SORI_DB_CHECKPOINT_MS: "0" });
    assert.deepEqual([db.dbCacheMb, db.dbMmapMb, db.dbCheckpointMs], [8, 0, 0]);
    assert.throws(() => parseServerConfig(["--db-checkpoint-ms", "-1"], {}));
    assert.throws(() => parseServerConfig(["--db-cache-mb", "0"], {}));
    assert.equal(c.limits.requestsInFlight, 5);
    assert.deepEqual(c.timeouts, { authS: 2, idleS: 4, requestS: 5 });
    assert.equal(c.limits.messagesPerMinute, 60);
    assert.equal(c.maxDbMb, 3);
    assert.equal(c.tlsCert, "/x/cert.pem");
    assert.throws(() => parseServerConfig(["--tls-cert", "/x/cert.pem"], {}), /go together/);
    assert.throws(() => parseServerConfig(["--idle-timeout", "1"], {}), /--idle-timeout/);
    assert.equal(d.trustProxy, false);
    assert.equal(parseServerConfig(["--trust-proxy", "true"], {}).trustProxy, true);
    assert.throws(() => parseServerConfig(["--trust-proxy", "yes"], {}), /--trust-proxy/);
  });

  it("reads TURN: a secret and repeatable URLs (flags replace the environment's list)", () => {
    assert.equal(parseServerConfig([], {}).turn, undefined);
    const secret = "0123456789abcdef";
    const env = parseServerConfig([], {
      SORI_TURN_SECRET: secret,
      SORI_TURN_URLS: "turn:a:3478,turns:b:5349",
    });
    // An hour by default: credentials cannot be revoked, so this is how long they outlive a logout.
    assert.deepEqual(env.turn, { secret, urls: ["turn:a:3478", "turns:b:5349"], ttlS: 3600 });
    const flags = parseServerConfig(
      ["--turn-url", "turn:c:3478", "--turn-url=turn:d:3478?transport=tcp", "--turn-ttl-s", "600"],
      { SORI_TURN_SECRET: secret, SORI_TURN_URLS: "turn:a:3478" },
    );
    assert.deepEqual(flags.turn, { secret, urls: ["turn:c:3478", "turn:d:3478?transport=tcp"], ttlS: 600 });
    assert.throws(() => parseServerConfig(["--turn-url", "turn:a:1"], {}), /--turn-secret/);
    assert.throws(() => parseServerConfig(["--turn-secret", secret], {}), /--turn-url/);
    assert.throws(() => parseServerConfig(["--turn-secret", "short", "--turn-url", "turn:a:1"], {}), /16/);
    assert.throws(() => parseServerConfig(["--turn-secret", secret, "--turn-url", "http://x"], {}), /turn:/);
  });

  it("keeps undelivered messages 30 days and takes files up to 100 MB unless told otherwise", () => {
    const d = parseServerConfig([], {});
    assert.equal(d.retentionDays, 30);
    assert.equal(d.maxFileBytes, 100_000_000);
    const c = parseServerConfig(["--retention-days", "7"], { SORI_MAX_FILE_MB: "5" });
    assert.equal(c.retentionDays, 7);
    assert.equal(c.maxFileBytes, 5_000_000);
    assert.throws(() => parseServerConfig(["--retention-days", "0"], {}), /--retention-days/);
    assert.throws(() => parseServerConfig(["--max-file-mb", "x"], {}), /--max-file-mb/);
  });

  it("takes the per-pair KeyPackage budget (10 an hour unless told otherwise)", () => {
    assert.equal(parseServerConfig([], {}).limits.keyPackageClaimsPerPairPerHour, 10);
    const env = parseServerConfig([], { SORI_CLAIMS_PER_PAIR_PER_HOUR: "3" });
    assert.equal(env.limits.keyPackageClaimsPerPairPerHour, 3);
    const flag = parseServerConfig(["--claims-per-pair-per-hour=20"], { SORI_CLAIMS_PER_PAIR_PER_HOUR: "3" });
    assert.equal(flag.limits.keyPackageClaimsPerPairPerHour, 20);
    assert.throws(
      () => parseServerConfig(["--claims-per-pair-per-hour", "0"], {}),
      /--claims-per-pair-per-hour/,
    );
  });

  it("takes the directory look-up limit (600 names a minute unless told otherwise, at least 200)", () => {
    assert.equal(parseServerConfig([], {}).limits.directoryLookupsPerMinute, 600);
    assert.equal(
      parseServerConfig([], { SORI_LOOKUPS_PER_MINUTE: "1000" }).limits.directoryLookupsPerMinute,
      1000,
    );
    assert.equal(
      parseServerConfig(["--lookups-per-minute", "200"], {}).limits.directoryLookupsPerMinute,
      200,
    );
    // A smaller limit would refuse one full request (100 names and 100 ids) for ever.
    assert.throws(() => parseServerConfig(["--lookups-per-minute", "199"], {}), /--lookups-per-minute/);
  });

  it("caps attachment bytes per account (1,024 MB) and on the server (none) unless told otherwise", () => {
    const d = parseServerConfig([], {});
    assert.deepEqual([d.maxAccountFileBytes, d.maxFilesBytes], [1_024_000_000, 0]);
    const c = parseServerConfig(["--max-files-gb", "50"], { SORI_MAX_ACCOUNT_FILES_MB: "200" });
    assert.deepEqual([c.maxAccountFileBytes, c.maxFilesBytes], [200_000_000, 50_000_000_000]);
    const none = parseServerConfig(["--max-account-files-mb=0"], { SORI_MAX_FILES_GB: "0" });
    assert.deepEqual([none.maxAccountFileBytes, none.maxFilesBytes], [0, 0]);
    assert.throws(() => parseServerConfig(["--max-account-files-mb", "-1"], {}), /--max-account-files-mb/);
    assert.throws(() => parseServerConfig([], { SORI_MAX_FILES_GB: "lots" }), /--max-files-gb/);
  });

  it("sends pushes to the big browsers' push services unless told otherwise; `default`, `any` and `off` read as such", () => {
    const d = parseServerConfig([], {}).push;
    assert.ok(
      Array.isArray(d.hosts) &&
        d.hosts.includes("fcm.googleapis.com") &&
        d.hosts.includes("*.push.apple.com"),
    );
    assert.equal(d.loopbackHttp, false);
    assert.equal(d.contact, undefined);
    const mine = parseServerConfig(["--push-hosts", "default, NTFY.example.org"], {}).push.hosts;
    assert.ok(
      Array.isArray(mine) && mine.includes("ntfy.example.org") && mine.includes("fcm.googleapis.com"),
    );
    assert.equal(parseServerConfig(["--push-hosts", "any"], {}).push.hosts, "any");
    assert.equal(parseServerConfig([], { SORI_PUSH_HOSTS: "off" }).push.hosts, "off");
    assert.deepEqual(
      parseServerConfig(["--push-hosts", "127.0.0.1", "--push-loopback-http", "true"], {}).push,
      {
        hosts: ["127.0.0.1"],
        loopbackHttp: true,
        contact: undefined,
      },
    );
    assert.equal(
      parseServerConfig(["--push-contact", "mailto:ops@example.org"], {}).push.contact,
      "mailto:ops@example.org",
    );
    assert.throws(() => parseServerConfig(["--push-hosts", "any,fcm.googleapis.com"], {}), /--push-hosts/);
    assert.throws(
      () => parseServerConfig(["--push-hosts", "https://fcm.googleapis.com"], {}),
      /--push-hosts/,
    );
    assert.throws(() => parseServerConfig(["--push-hosts", ","], {}), /--push-hosts/);
    assert.throws(() => parseServerConfig(["--push-contact", "ops@example.org"], {}), /--push-contact/);
    assert.throws(() => parseServerConfig(["--push-contact", "mailto:ops@localhost"], {}), /--push-contact/);
    assert.throws(() => parseServerConfig(["--push-loopback-http", "yes"], {}), /--push-loopback-http/);
  });
});
