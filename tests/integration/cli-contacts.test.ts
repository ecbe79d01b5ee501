// `sori contacts`: asking, answering and listing from the command line, and `sori receive` telling
// of what the other person did, as a line and as JSON.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CliServer, soriRunner, startCliServer } from "../cli-runner.ts";

const PASSWORD = "cli contacts password";
const sori = soriRunner(PASSWORD, 30_000);

type ContactLine = { username: string; userId: string; state: string; by: string; chat: string; at: string };

describe("sori contacts", () => {
  let dir: string;
  let server: CliServer;
  const profile = (name: string): string[] => ["--profile", join(dir, name), "--no-passphrase"];
  const as = (name: string): string[] => ["--profile", join(dir, name)];
  const ok = async (args: string[]): Promise<string> => {
    const r = await sori(args);
    assert.equal(r.code, 0, `sori ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const jsonLines = <T>(out: string): T[] =>
    out
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as T);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sori-cli-contacts-"));
    server = await startCliServer(join(dir, "data"));
    for (const name of ["c_ann", "c_bob"])
      await ok(["register", name, "--server", server.url, ...profile(name)]);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("asks, tells the other side in receive, lists, and accepts", async () => {
    assert.equal(
      await ok(["contacts", ...as("c_bob")]),
      "no contacts yet: sori contacts request <username> asks someone\n",
    );
    assert.equal(
      await ok(["contacts", "request", "c_bob", ...as("c_ann")]),
      "you asked c_bob to be your contact\n",
    );
    // Asking again is the same request.
    await ok(["contacts", "request", "c_bob", ...as("c_ann")]);
    const received = await ok(["receive", ...as("c_bob")]);
    assert.match(
      received,
      /^\S+Z c_ann: \(c_ann asks to be your contact: sori contacts accept c_ann, or sori contacts decline c_ann\)\n$/,
    );
    assert.equal(await ok(["receive", ...as("c_bob")]), "", "told once");
    const [listed] = jsonLines<ContactLine>(await ok(["contacts", "--json", ...as("c_bob")]));
    assert.deepEqual([listed!.username, listed!.state, listed!.by], ["c_ann", "asked-me", "them"]);
    assert.ok(!Number.isNaN(Date.parse(listed!.at)));
    assert.match(
      await ok(["contacts", ...as("c_bob")]),
      /^c_ann {2}asked-me {2}c_ann asks to be your contact/,
    );

    const accepted = jsonLines<ContactLine>(
      await ok(["contacts", "accept", "c_ann", "--json", ...as("c_bob")]),
    );
    assert.deepEqual([accepted[0]!.state, accepted[0]!.by], ["accepted", "me"]);
    const told = jsonLines<{ from: string; text: string; system?: Record<string, string> }>(
      await ok(["receive", "--json", ...as("c_ann")]),
    );
    assert.equal(told.length, 1);
    assert.equal(told[0]!.from, "c_bob");
    assert.deepEqual(
      { event: told[0]!.system?.event, state: told[0]!.system?.state, by: told[0]!.system?.by },
      { event: "contact", state: "accepted", by: "them" },
    );
    assert.match(
      await ok(["contacts", ...as("c_ann")]),
      /^c_bob {2}accepted {2}c_bob accepted: you are contacts/,
    );
  });

  it("refuses to accept what nobody asked, and declines, after which a new request works", async () => {
    const r = await sori(["contacts", "accept", "nobody_here", ...as("c_ann")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nobody_here has not asked to be your contact/);
    const usage = await sori(["contacts", "decline", ...as("c_ann")]);
    assert.equal(usage.code, 2);

    assert.equal(await ok(["contacts", "remove", "c_bob", ...as("c_ann")]), "removed c_bob\n");
    assert.match(await ok(["receive", ...as("c_bob")]), /c_ann is no longer your contact/);
    assert.equal(
      await ok(["contacts", ...as("c_bob")]),
      "no contacts yet: sori contacts request <username> asks someone\n",
    );
    await ok(["contacts", "request", "c_ann", ...as("c_bob")]);
    assert.equal(
      await ok(["contacts", "decline", "c_bob", ...as("c_ann")]),
      "you declined c_bob's contact request\n",
    );
    assert.match(await ok(["receive", ...as("c_bob")]), /c_ann declined your contact request/);
    await ok(["contacts", "request", "c_ann", ...as("c_bob")]);
    const [again] = jsonLines<ContactLine>(await ok(["contacts", "--json", ...as("c_ann")]));
    assert.deepEqual([again!.state, again!.by], ["asked-me", "them"]);
  });
});
