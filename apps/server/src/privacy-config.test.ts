import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseServerConfig } from "./config.ts";

describe("retention and attachment options", () => {
  it("default to 30 days and 100 MB, and take flags and environment", () => {
    const d = parseServerConfig([], {});
    assert.equal(d.retentionDays, 30);
    assert.equal(d.maxFileBytes, 100_000_000);
    const c = parseServerConfig(["--retention-days", "7"], { SORI_MAX_FILE_MB: "5" });
    assert.equal(c.retentionDays, 7);
    assert.equal(c.maxFileBytes, 5_000_000);
    assert.throws(() => parseServerConfig(["--retention-days", "0"], {}), /--retention-days/);
    assert.throws(() => parseServerConfig(["--max-file-mb", "x"], {}), /--max-file-mb/);
  });
});
