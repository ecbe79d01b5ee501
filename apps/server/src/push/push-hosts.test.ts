import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError } from "@sori/protocol";
import { checkEndpoint, DEFAULT_PUSH_HOSTS, pushHostEntry } from "./push-hosts.ts";

const refused = (
  endpoint: string,
  policy: Parameters<typeof checkEndpoint>[1],
  code: string,
  text: RegExp,
): void => {
  assert.throws(
    () => checkEndpoint(endpoint, policy),
    (e: unknown) => e instanceof ProtocolError && e.code === code && text.test(e.message),
    endpoint,
  );
};

describe("allowed push hosts", () => {
  const defaults = { hosts: DEFAULT_PUSH_HOSTS, loopbackHttp: false };

  it("by default takes the big browsers' push services and nothing else", () => {
    for (const e of [
      "https://fcm.googleapis.com/fcm/send/abc",
      "https://updates.push.services.mozilla.com/wpush/v2/x",
      "https://web.push.apple.com/QOx",
      "https://wns2-par02p.notify.windows.com/w/?token=x",
    ])
      assert.equal(checkEndpoint(e, defaults).href, e);
    refused(
      "https://evil.example/fcm.googleapis.com",
      defaults,
      "forbidden",
      /"evil.example" is not allowed.*fcm\.googleapis\.com/,
    );
    refused("https://fcm.googleapis.com.evil.example/x", defaults, "forbidden", /not allowed/);
    refused("https://notify.windows.com/x", defaults, "forbidden", /not allowed/);
    refused("http://fcm.googleapis.com/fcm/send/abc", defaults, "bad-request", /https/);
  });

  it("allows plain http only to loopback, and only when the operator says so", () => {
    const local = { hosts: ["127.0.0.1"], loopbackHttp: true };
    assert.ok(checkEndpoint("http://127.0.0.1:9/x", local));
    refused("http://127.0.0.1:9/x", { hosts: ["127.0.0.1"], loopbackHttp: false }, "bad-request", /https/);
    refused("http://192.168.1.2/x", { hosts: ["192.168.1.2"], loopbackHttp: true }, "bad-request", /https/);
  });

  it("with any, takes public hosts but no private, loopback or link-local address", () => {
    const any = { hosts: "any" as const, loopbackHttp: false };
    assert.ok(checkEndpoint("https://ntfy.example.org/up123", any));
    assert.ok(checkEndpoint("https://93.184.216.34/x", any));
    for (const e of [
      "https://10.0.0.1/x",
      "https://127.0.0.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/x",
      "https://[fd00::1]/x",
      "https://[::ffff:192.168.0.1]/x",
      "https://[::ffff:7f00:1]/x",
      "https://localhost/x",
    ])
      refused(e, any, "forbidden", /private/);
  });

  it("switched off, refuses every subscription", () => {
    refused(
      "https://fcm.googleapis.com/x",
      { hosts: "off", loopbackHttp: false },
      "forbidden",
      /switched off/,
    );
  });

  it("reads --push-hosts entries", () => {
    assert.equal(pushHostEntry(" NTFY.Example.org "), "ntfy.example.org");
    assert.equal(pushHostEntry("*.push.apple.com"), "*.push.apple.com");
    assert.equal(pushHostEntry("[fd00::1]"), "fd00::1");
    assert.equal(pushHostEntry("a..b"), undefined);
    assert.equal(pushHostEntry("https://x.org"), undefined);
    assert.equal(pushHostEntry("*"), undefined);
  });
});
