import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SortedKeys } from "./sorted-keys.ts";

describe("SortedKeys", () => {
  it("lists a prefix exactly as filtering and sorting every key would, after any adds and deletes", () => {
    const key = fc.stringMatching(/^[ab/가]{0,4}$/);
    fc.assert(
      fc.property(fc.array(key), fc.array(fc.tuple(fc.boolean(), key)), key, (initial, ops, prefix) => {
        const keys = new SortedKeys(initial);
        const model = new Set(initial);
        for (const [add, k] of ops) {
          if (add) {
            keys.add(k);
            model.add(k);
          } else {
            keys.delete(k);
            model.delete(k);
          }
        }
        assert.deepEqual(keys.withPrefix(prefix), [...model].filter((k) => k.startsWith(prefix)).sort());
      }),
      { numRuns: 500 },
    );
  });
});
