import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { memoryIo } from "./memory-io.ts";
import { progressBar } from "./progress-bar.ts";

describe("the progress bar", () => {
  it("draws on a terminal only, with the (sender's) file name escaped", () => {
    const tty = memoryIo({ stderrIsTty: true });
    const bar = progressBar(tty.io, "\u202egpj.exe\x1b[2J");
    bar.update({ done: 500_000, total: 1_000_000 });
    bar.update({ done: 500_001, total: 1_000_000 });
    bar.done();
    assert.equal(
      tty.stderr(),
      `\r\\u202egpj.exe\\x1b[2J [${"#".repeat(15)}${".".repeat(15)}]  50% 0.5 MB/1.0 MB\n`,
    );
    const pipe = memoryIo();
    const quiet = progressBar(pipe.io, "a.txt");
    quiet.update({ done: 1, total: 2 });
    quiet.done();
    assert.equal(pipe.stderr(), "");
  });
});
