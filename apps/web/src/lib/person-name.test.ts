import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cleanDisplayName, nameWithUsername, showsUsername } from "./person-name.ts";

describe("display names", () => {
  it("lose every bidi control, and are null when nothing else is left", () => {
    assert.equal(cleanDisplayName("\u202eecila"), "ecila");
    assert.equal(cleanDisplayName("\u2066Alice\u2069 \u200f"), "Alice");
    for (const c of [
      "\u061c",
      "\u200e",
      "\u200f",
      "\u202a",
      "\u202b",
      "\u202c",
      "\u202d",
      "\u202e",
      "\u2066",
      "\u2067",
      "\u2068",
      "\u2069",
    ])
      assert.equal(cleanDisplayName(`a${c}b`), "ab", `U+${c.codePointAt(0)?.toString(16)}`);
    assert.equal(cleanDisplayName("\u202e \u200f"), null);
    assert.equal(cleanDisplayName(null), null);
    // Korean, Arabic and emoji names are left as they are.
    assert.equal(cleanDisplayName("김소리 🐣"), "김소리 🐣");
    assert.equal(cleanDisplayName("سوري"), "سوري");
  });

  it("come with the username beside them, isolated, unless there is no other name to show", () => {
    assert.equal(nameWithUsername("alice", "trudy"), "\u2068alice\u2069 (@trudy)");
    assert.equal(nameWithUsername(null, "trudy"), "trudy");
    assert.equal(nameWithUsername("alice", "alice"), "alice");
    assert.equal(showsUsername("Alice", "alice"), true);
    assert.equal(showsUsername(null, "alice"), false);
  });
});
