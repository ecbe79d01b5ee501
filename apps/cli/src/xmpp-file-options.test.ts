import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { memoryIo } from "./memory-io.ts";
import { run } from "./run.ts";

const base = [
  "xmpp-gateway",
  "--domain",
  "sori.example.org",
  "--secret",
  "a long secret",
  "--profile",
  "/nonexistent",
];

async function usage(...extra: string[]): Promise<string> {
  const m = memoryIo();
  const code = await run([...base, ...extra], m.io);
  assert.equal(code, 2, `${extra.join(" ")}: ${m.stderr()}`);
  return m.stderr().split("\n")[0]!;
}

describe("sori xmpp-gateway: the file options", () => {
  it("refuses what does not fit before it opens the profile", async () => {
    assert.match(await usage("--files-listen", "127.0.0.1:8090"), /needs --files-public-url/);
    assert.match(await usage("--files-public-url", "https://gw.example.org/files"), /need --files-listen/);
    assert.match(
      await usage("--files-listen", "8090", "--files-public-url", "https://g/f"),
      /takes <host>:<port>/,
    );
    assert.match(
      await usage("--files-listen", "127.0.0.1:8090", "--files-public-url", "ftp://gw.example.org/files"),
      /needs --files-public-url/,
    );
    const both = ["--files-listen", "127.0.0.1:8090", "--files-public-url", "https://gw.example.org/files"];
    assert.match(await usage(...both, "--files-tls-cert", "/x.pem"), /go together/);
    assert.match(
      await usage(...both, "--files-tls-cert", "/nope.pem", "--files-tls-key", "/nope.key"),
      /cannot read/,
    );
    assert.match(
      await usage(...both, "--files-expire-days", "0"),
      /--files-expire-days takes a whole number/,
    );
    assert.match(await usage("--max-file-mb", "1.5"), /--max-file-mb takes a whole number/);
  });
});
